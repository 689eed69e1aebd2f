"""What the command-line commands do, one module per application; `kzoo_cli` parses and dispatches."""
