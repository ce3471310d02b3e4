"""The headless face: `xlu-tui run | runs ... | presets ... | doctor`, assembled from the command
groups in `xlu_tui.commands`.

Heavy imports live inside the commands so `xlu-tui --help` stays fast; `main()` turns bad
input into one sentence and exit code 2 (a traceback only with XLU_DEBUG=1).
"""
from __future__ import annotations

import os
import sys

import typer

from xlu_tui.commands.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, RunsDirOpt, runs_folder
from xlu_tui.commands.doctor import doctor
from xlu_tui.commands.presets import presets_app
from xlu_tui.commands.run import run
from xlu_tui.commands.runs import runs_app

app = typer.Typer(no_args_is_help=False, add_completion=False, rich_markup_mode=None,
                  help="Run and watch cross-lingual adaptation of multilingual language models.")
app.command()(run)
app.add_typer(runs_app, name="runs")
app.add_typer(presets_app, name="presets")
app.command()(doctor)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context, runs_dir: RunsDirOpt = None) -> None:
    # the folder every command works on unless it is given its own --runs-dir
    ctx.obj = runs_folder(runs_dir)
    if ctx.invoked_subcommand is None:
        try:
            from xlu_tui.app import make_app
        except ImportError:  # the app arrives with the Textual issue; until then, the help
            typer.echo(ctx.get_help())
            raise typer.Exit(0)
        make_app(runs_dir=ctx.obj).run()


def main(argv: list[str] | None = None) -> int:
    from engine.errors import ConfigError, WriteFailed

    try:
        # Without standalone mode click hands back typer.Exit's code instead of exiting.
        rc = app(args=argv, standalone_mode=False, prog_name="xlu-tui")
    except ConfigError as err:
        typer.echo(f"error: {err}", err=True)
        return EXIT_BAD_INPUT
    except WriteFailed as err:  # disk full, read-only: not the user's input, but one sentence all the same
        typer.echo(f"error: {err}", err=True)
        return EXIT_FAILED
    except typer.Exit as ex:
        return ex.exit_code
    except typer.Abort:
        typer.echo("aborted", err=True)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001
        if isinstance(err, typer.TyperException) and hasattr(err, "show"):  # usage errors: exit 2
            err.show()
            return getattr(err, "exit_code", EXIT_BAD_INPUT)
        if os.environ.get("XLU_DEBUG"):
            raise
        typer.echo(f"error: {type(err).__name__}: {err} (set XLU_DEBUG=1 for the traceback)", err=True)
        return EXIT_FAILED
    return rc if isinstance(rc, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
