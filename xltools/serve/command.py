"""``xltools serve``: the command. Click only at import; Starlette and uvicorn when it runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from ..cli_zh import ChineseCommand  # before the command is declared: click's texts in Chinese
from .config import MB, ServeConfig

EXIT_USAGE = 2
DEMO_DATA = Path("xltools-serve-demo")


@click.command("serve", cls=ChineseCommand)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="名册：分发时生成的 manifest.csv（或含 bureau_id 列的 .csv / .xlsx）",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="数据文件夹：记录、上传的文件、tokens.csv、officer.txt（默认 xltools-serve-data；--demo 时 xltools-serve-demo）",
)
@click.option(
    "--host", metavar="地址", default="127.0.0.1", show_default=True,
    help="监听地址（默认只对本机；对单位网络开放请用 TLS 反向代理，见 README）",
)  # fmt: skip
@click.option(
    "--port", metavar="端口", type=click.IntRange(1, 65535), default=8000, show_default=True,
    help="监听端口",
)  # fmt: skip
@click.option(
    "--max-upload-mb", metavar="整数", type=click.IntRange(1, 1024), default=20, show_default=True,
    help="单个上传文件的大小上限（MB）",
)  # fmt: skip
@click.option(
    "--max-uploads", metavar="整数", type=click.IntRange(1), default=30, show_default=True,
    help="每个单位（令牌）最多上传次数",
)  # fmt: skip
@click.option(
    "--workers", metavar="整数", type=click.IntRange(1, 64), default=2, show_default=True,
    help="同时进行的检查数",
)  # fmt: skip
@click.option(
    "--secure-cookies", is_flag=True, help="只经 HTTPS 发送 Cookie（放在 TLS 反向代理之后时使用）"
)
@click.option(
    "--demo", is_flag=True, help="用示例名册（examples/roster_project_expense_2023.csv）分发并启动"
)
@click.option(
    "--specs", "specs_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="规范文件夹（默认：$XLTOOLS_SPECS、./specs、随程序附带的 specs）",
)  # fmt: skip
def serve_command(
    roster: Path | None,
    data_dir: Path | None,
    host: str,
    port: int,
    max_upload_mb: int,
    max_uploads: int,
    workers: int,
    secure_cookies: bool,
    demo: bool,
    specs_dir: Path | None,
) -> None:
    """本机收件页：各单位用分发时给的上传口令登录，上传自评表立即得到检查结果（与 xltools check
    相同）并下载检查后副本；主管人员页面显示名册进度、每份提交及其问题，并汇总已采纳的文件。

    \b
    xltools serve --roster 分发/manifest.csv --data 收件/
    xltools serve --demo                         用示例名册体验

    首次启动时为名册中每个单位生成上传口令，写入 数据文件夹/tokens.csv（请分别发给各单位），
    主管密钥写入 数据文件夹/officer.txt。默认只监听本机（127.0.0.1）；对单位网络开放时，
    请在前面放一个 TLS 反向代理（见 README）。

    退出码：0 正常停止，2 用法错误（如缺少名册或缺少 serve 依赖）。
    """
    try:
        import uvicorn

        from .app import create_app
    except ImportError as error:
        click.echo(
            f"[usage-serve-missing] 缺少收件页所需的软件包（{error.name}）：请安装 "
            "pip install 'xltools[serve]'",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    if data_dir is None:
        data_dir = DEMO_DATA if demo else Path("xltools-serve-data")
    if demo and roster is None:
        roster = prepare_demo(data_dir, click.echo)
    if roster is None:
        click.echo(
            "[usage-serve-no-roster] 请用 --roster 指定名册（分发时生成的 manifest.csv），"
            "或用 --demo 以示例名册体验",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    from ..status import RosterError
    from ..xlsx.limits import LimitsError

    config = ServeConfig(
        data_dir=data_dir,
        roster=roster,
        specs_dir=specs_dir,
        max_upload_bytes=max_upload_mb * MB,
        max_uploads_per_bureau=max_uploads,
        check_workers=workers,
        secure_cookies=secure_cookies,
    )
    try:
        app = create_app(config)
    except (RosterError, LimitsError) as error:
        click.echo(f"[usage-serve-setup] {error}", err=True)
        sys.exit(EXIT_USAGE)
    service = app.state.service
    click.echo(f"数据文件夹：{data_dir}（上传的文件按 SHA-256 保存在 blobs/，从不覆盖）")
    if service.issued:
        click.echo(
            f"已为 {service.issued} 个单位生成上传口令：{config.tokens_file}（请分别发给各单位）"
        )
    else:
        click.echo(f"各单位的上传口令：{config.tokens_file}")
    if service.officer_secret:
        click.echo(
            f"主管密钥（只显示这一次，另存于 {config.officer_file}）：{service.officer_secret}"
        )
    else:
        click.echo(f"主管密钥：见 {config.officer_file}")
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"收件页：http://{shown}:{port}/   主管页面：http://{shown}:{port}/officer")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            "[serve-exposed] 注意：收件页正在监听本机以外的地址，但本身不加密；"
            "请只在 TLS 反向代理之后这样做（见 README）。",
            err=True,
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=30,
    )


def prepare_demo(data_dir: Path, say: Callable[[str], None] = print) -> Path:
    """Distribute the sample roster into ``data_dir/分发`` once; the manifest's path."""
    from ..demo import EXAMPLES
    from ..registry import PACKAGE_SPECS
    from ..roster import MANIFEST, distribute, read_roster, validate_roster
    from ..spec import load_spec

    target = data_dir / "分发"
    manifest = target / MANIFEST
    if manifest.is_file():
        return manifest
    spec = load_spec(PACKAGE_SPECS / "project_expense_2023.yaml")
    good, _ = validate_roster(spec, read_roster(EXAMPLES / "roster_project_expense_2023.csv"))
    distribute(spec, good, target)
    say(f"已按示例名册分发 {len(good)} 份预填工作簿：{target}（请用这些工作簿填写后上传）")
    return manifest
