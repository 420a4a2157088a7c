"""The pages, in Chinese: plain server-rendered HTML (Jinja2, autoescaped), one small script
for the upload's and the merge's progress. Nothing from a file or a request reaches a page
unescaped."""

from __future__ import annotations

from typing import Any

import jinja2

VERDICT_LABEL = {
    "passed": "通过",
    "errors": "不通过：须修改后重新上传",
    "blank": "未填写",
    "rejected": "未采纳（拒收）",
}
SEVERITY_LABEL = {"error": "错误", "warning": "警告", "info": "提示"}

_BASE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}绩效自评表收件{% endblock %}</title>
<style>
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",sans-serif;
 margin:2em auto;max-width:72em;padding:0 1em;line-height:1.6;color:#222}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.passed{color:#176b1f}.errors,.rejected{color:#b00020}.blank{color:#8a5a00}
.box{border:1px solid #ccc;padding:1em;margin:1em 0;background:#fafafa}
.code{font-family:monospace;color:#666;font-size:90%}
nav{margin-bottom:1em}nav form{display:inline}button{padding:.3em 1.2em}
progress{width:20em}
</style></head><body>
<nav>{% block nav %}{% endblock %}</nav>
{% block body %}{% endblock %}
<script src="/static/xltools-serve.js"></script>
</body></html>"""

_LOGOUT = """<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button type="submit">退出</button></form>"""

_TEMPLATES = {
    "base.html": _BASE,
    "login.html": """{% extends "base.html" %}{% block body %}
<h1>绩效自评表收件</h1>
<p>请输入主管部门发给本单位的<strong>上传口令</strong>（令牌），登录后上传填好的自评表，立即得到检查结果。</p>
<form method="post" action="/login" class="box">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label>上传口令：<input type="password" name="token" size="40" autocomplete="off" required></label>
<button type="submit">登录</button></form>
<p><a href="/officer">主管人员入口</a></p>
{% endblock %}""",
    "officer_login.html": """{% extends "base.html" %}{% block title %}主管人员登录{% endblock %}
{% block body %}<h1>主管人员登录</h1>
<p>请输入启动收件页时生成的主管密钥（保存在数据文件夹的 officer.txt 中）。</p>
<form method="post" action="/officer/login" class="box">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label>主管密钥：<input type="password" name="secret" size="40" autocomplete="off" required></label>
<button type="submit">登录</button></form>{% endblock %}""",
    "bureau.html": """{% extends "base.html" %}{% block nav %}{{ bureau.name or bureau.bureau_id }}
（{{ bureau.bureau_id }}） """
    + _LOGOUT
    + """{% endblock %}{% block body %}
<h1>上传自评表</h1>
<p id="my-status">本单位当前状态：<strong class="status-{{ mine.code }}">{{ mine.status }}</strong>
{% if mine.reason %}（{{ mine.reason }}）{% endif %}{% if mine.latest_file %}，采用的提交：{{ mine.latest_file }}{% endif %}</p>
<form id="upload" method="post" action="/bureau/upload" enctype="multipart/form-data" class="box">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label>填好的自评表（.xlsx）：<input type="file" name="file" id="file" accept=".xlsx,.xlsm,.xls" required></label>
<button type="submit" id="send">上传并检查</button>
<div id="progress" hidden><progress id="bar" max="100" value="0"></progress> <span id="status"></span></div>
<p id="failure" class="errors" role="alert"></p>
<p>单个文件不超过 {{ limit_mb }} MB；本单位最多上传 {{ max_uploads }} 次（已上传 {{ submissions|length }} 次）。
重新上传会替代之前通过检查的文件，之前的文件仍然保留备查。</p>
</form>
<h2>本单位的提交记录</h2>
{% if submissions %}<table><tr><th>编号</th><th>文件</th><th>收到时间（UTC）</th><th>检查结果</th><th>错误</th><th>警告</th><th></th></tr>
{% for s in submissions|reverse %}<tr><td>{{ s.id }}</td><td>{{ s.filename }}</td><td>{{ s.received|when }}</td>
<td class="{{ s.verdict }}">{{ labels[s.verdict] }}</td><td>{{ s.errors }}</td><td>{{ s.warnings }}</td>
<td><a href="/bureau/submissions/{{ s.id }}">查看</a></td></tr>{% endfor %}</table>
{% else %}<p>尚未上传。</p>{% endif %}{% endblock %}""",
    "submission.html": """{% extends "base.html" %}{% block nav %}<a href="{{ back }}">返回</a> """
    + _LOGOUT
    + """{% endblock %}{% block body %}
<h1>检查结果：<span id="verdict" class="{{ s.verdict }}">{{ labels[s.verdict] }}</span></h1>
<div class="box"><p id="summary">{{ sentence }}</p>
<p>文件：{{ s.filename }}（{{ s.bytes }} 字节，SHA-256 <span class="code">{{ s.sha256[:16] }}…</span>），
收到时间 {{ s.received|when }}（UTC），提交编号 {{ s.id }}。</p>
{% if copy_url %}<p><a id="checked-copy" href="{{ copy_url }}">下载检查后副本</a>（第一张工作表“校验结果”列出每个问题，问题单元格已标色）</p>{% endif %}
</div>
{% if findings %}<h2>发现的问题</h2><table><tr><th>类别</th><th>位置</th><th>说明</th><th>代码</th></tr>
{% for f in findings %}<tr><td class="{{ 'errors' if f.severity == 'error' else '' }}">{{ severities[f.severity] }}</td>
<td>{{ f.sheet }}{% if f.cell %}!{{ f.cell }}{% endif %}</td><td>{{ f.message }}</td><td class="code">{{ f.code }}</td></tr>{% endfor %}
</table>{% endif %}{% endblock %}""",
    "officer.html": """{% extends "base.html" %}{% block title %}收件情况{% endblock %}
{% block nav %}主管人员 """
    + _LOGOUT
    + """{% endblock %}{% block body %}
<h1>收件情况</h1><p id="status-line">{{ report.line }}</p>
<h2>名册</h2><table id="roster"><tr><th>单位编号</th><th>单位</th><th>状态</th><th>原因</th><th>采用的提交</th></tr>
{% for b in report.bureaus %}<tr><td>{{ b.bureau_id }}</td><td>{{ b.name }}</td>
<td class="status-{{ b.code }}">{{ b.status }}</td><td>{{ b.reason }}</td><td>{{ b.latest_file }}</td></tr>{% endfor %}</table>
<h2>汇总</h2><div class="box">
<form id="merge" method="post" action="/officer/merge"><input type="hidden" name="csrf" value="{{ csrf }}">
<button type="submit" {% if not mergeable %}disabled{% endif %}>汇总已采纳的 {{ mergeable }} 份文件</button></form>
<div id="merge-progress" {% if not running %}hidden{% endif %} data-merge="{{ running or '' }}">
<progress id="merge-bar" max="100" value="0"></progress> <span id="merge-status">汇总中…</span></div>
{% if merges %}<table><tr><th>编号</th><th>开始（UTC）</th><th>状态</th><th>结果</th><th></th></tr>
{% for m in merges %}<tr><td>{{ m.id }}</td><td>{{ m.started|when }}</td><td>{{ merge_states[m.state] }}（{{ m.done }}/{{ m.total }}）</td>
<td>{{ m.line }}</td><td>{% if m.summary_sha256 %}<a href="/officer/merges/{{ m.id }}/summary.xlsx">下载汇总工作簿</a>{% endif %}</td></tr>{% endfor %}</table>{% endif %}
</div>
<h2>全部提交（{{ submissions|length }}）</h2>
<table id="submissions"><tr><th>编号</th><th>单位</th><th>文件</th><th>收到时间（UTC）</th><th>检查结果</th><th>错误</th><th>警告</th><th>原因</th><th></th></tr>
{% for s in submissions|reverse %}<tr><td>{{ s.id }}</td><td>{{ s.bureau_id }}</td><td>{{ s.filename }}</td><td>{{ s.received|when }}</td>
<td class="{{ s.verdict }}">{{ labels[s.verdict] }}</td><td>{{ s.errors }}</td><td>{{ s.warnings }}</td><td>{{ s.reason }}</td>
<td><a href="/officer/submissions/{{ s.id }}">问题</a> · <a href="/officer/submissions/{{ s.id }}/original">原件</a></td></tr>{% endfor %}</table>
<h2>操作记录（最近 {{ decisions|length }} 条）</h2>
<table><tr><th>时间（UTC）</th><th>操作者</th><th>操作</th><th>提交</th><th>说明</th></tr>
{% for d in decisions %}<tr><td>{{ d.at|when }}</td><td>{{ d.actor }}</td><td class="code">{{ d.action }}</td><td>{{ d.submission_id or '' }}</td><td>{{ d.detail }}</td></tr>{% endfor %}</table>
{% endblock %}""",
    "error.html": """{% extends "base.html" %}{% block title %}出错了{% endblock %}{% block body %}
<h1>无法完成请求</h1><p class="errors" id="message">{{ message }}</p>
<p class="code">[{{ code }}]</p><p><a href="{{ back }}">返回</a></p>{% endblock %}""",
}

SCRIPT = """// xltools serve: the upload's progress, and the merge's (served as /static/xltools-serve.js)
(function () {
  var form = document.getElementById('upload');
  if (form) {
    form.addEventListener('submit', function (event) {
      var input = document.getElementById('file');
      if (!input.files.length) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      var bar = document.getElementById('bar');
      var status = document.getElementById('status');
      var failure = document.getElementById('failure');
      document.getElementById('progress').hidden = false;
      document.getElementById('send').disabled = true;
      failure.textContent = '';
      status.textContent = '上传中…';
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      };
      xhr.upload.onload = function () { bar.removeAttribute('value'); status.textContent = '已上传，正在检查…'; };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = {message: '服务器的回答无法识别（' + xhr.status + '）'}; }
        if (xhr.status === 200 && answer.url) { window.location.assign(answer.url); return; }
        failure.textContent = (answer.message || '上传失败') + (answer.code ? ' [' + answer.code + ']' : '');
        status.textContent = '';
        document.getElementById('send').disabled = false;
      };
      xhr.onerror = function () {
        failure.textContent = '上传中断：网络连接出错，请重试。';
        document.getElementById('send').disabled = false;
      };
      xhr.open('POST', form.action);
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.setRequestHeader('X-CSRF-Token', form.elements.csrf.value);
      xhr.send(new FormData(form));
    });
  }
  var merge = document.getElementById('merge');
  var box = document.getElementById('merge-progress');
  function poll(id) {
    box.hidden = false;
    fetch('/officer/merges/' + id, {headers: {Accept: 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(function (m) {
        var bar = document.getElementById('merge-bar');
        if (m.total) { bar.max = m.total; bar.value = m.done; }
        document.getElementById('merge-status').textContent = m.message;
        if (m.state === 'running') { setTimeout(function () { poll(id); }, 500); }
        else { window.location.reload(); }
      });
  }
  if (merge) {
    merge.addEventListener('submit', function (event) {
      event.preventDefault();
      fetch(merge.action, {method: 'POST', body: new FormData(merge), credentials: 'same-origin',
                           headers: {Accept: 'application/json', 'X-CSRF-Token': merge.elements.csrf.value}})
        .then(function (r) { return r.json(); })
        .then(function (m) { if (m.id) { poll(m.id); } else { alert(m.message); } });
    });
    if (box && box.dataset.merge) { poll(box.dataset.merge); }
  }
})();
"""

_ENV = jinja2.Environment(
    loader=jinja2.DictLoader(_TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _when(value: object) -> str:
    """``2026-12-03T11:48:54+00:00`` as ``2026-12-03 11:48:54``: every time shown is UTC."""
    return str(value or "").replace("T", " ").removesuffix("+00:00")


_ENV.filters["when"] = _when


def render(name: str, **context: Any) -> str:
    context.setdefault("labels", VERDICT_LABEL)
    context.setdefault("severities", SEVERITY_LABEL)
    return _ENV.get_template(name).render(**context)


def sentence(verdict: str, errors: int, warnings: int, reason: str) -> str:
    """The verdict in one Chinese sentence, for the bureau."""
    if verdict == "passed":
        more = f"有 {warnings} 条警告，请看一下是否需要修改。" if warnings else ""
        return f"检查通过，已收到。{more}如需修改，重新上传即可替代这一份。"
    if verdict == "errors":
        return (
            f"检查不通过：有 {errors} 个错误"
            + (f"、{warnings} 条警告" if warnings else "")
            + "。请按下列问题修改后重新上传；检查后副本中问题单元格已标色。"
        )
    if verdict == "blank":
        return "这是一份未填写的模板，未采纳。请填写后重新上传。"
    return f"未能采纳：{reason}" if reason else "未能采纳，原因见下列问题。"
