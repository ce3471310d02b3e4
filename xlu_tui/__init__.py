"""The face of xlu-tui: the Textual app and the Typer CLI. Never imports the training stack."""
