"""The CLI's command groups, one module each (`run`, `runs`, `presets`, `doctor`); `xlu_tui.cli`
assembles them into the `xlu-tui` app. What they share is in `common`."""
