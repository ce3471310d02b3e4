"""The engine of xlu-tui: configs, run store, events, launcher, worker, tasks, models, methods.

Never imports textual. Modules that the UI reads (config, store, events, launcher, the
registries) import torch only inside the functions that train.
"""
