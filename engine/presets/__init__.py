"""Run presets as TOML files: the offline demo and the papers' settings."""
