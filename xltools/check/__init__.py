"""Checking returned 绩效自评表 workbooks: reading each input cell as a careful reviewer would."""
