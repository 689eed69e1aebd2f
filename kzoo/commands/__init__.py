"""Command-line commands, one module per application (see `kzoo.cli`)."""
