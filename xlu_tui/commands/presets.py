"""`xlu-tui presets list | show NAME`: the named run settings the engine ships."""
from __future__ import annotations

from typing import Annotated

import typer

from xlu_tui.commands.common import JsonOpt, print_json

presets_app = typer.Typer(no_args_is_help=True, help="Named run settings: the offline demo and the papers' settings.")


@presets_app.command("list")
def presets_list(as_json: JsonOpt = False) -> None:
    """Every preset with its task and method."""
    from engine.config import preset_data, preset_names

    rows = []
    for name in preset_names():
        d = preset_data(name)
        rows.append({"name": name, "task": d.get("task", {}).get("name", "topics"),
                     "method": d.get("method", {}).get("name", "finetune"),
                     "description": d.get("description", "")})
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    # name, task and method as wide as their widest cell, so columns line up; the description
    # wraps in its own column, or under its preset when the terminal leaves it too little room
    console = Console(highlight=False)
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in ("name", "task", "method")}
    beside = console.width - sum(widths.values()) - 6 >= 40
    table = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("name", "task", "method"):
        table.add_column(col, no_wrap=True, width=widths[col])
    if beside:
        table.add_column("description", ratio=1)
        for r in rows:
            table.add_row(r["name"], r["task"], r["method"], r["description"])
        console.print(table)
        return
    line = "{name:<%d}  {task:<%d}  {method}" % (widths["name"], widths["task"])
    console.print(line.format(name="name", task="task", method="method"), style="bold", markup=False, soft_wrap=True)
    for r in rows:
        console.print(line.format(**r), markup=False, soft_wrap=True)
        console.print(Padding(Text(r["description"], style="dim"), (0, 0, 0, 2)))


@presets_app.command("show")
def presets_show(name: Annotated[str, typer.Argument(help="preset name")]) -> None:
    """The fully resolved config of a preset, as TOML."""
    from engine.config import build

    typer.echo(build(preset=name).to_toml(), nl=False)
