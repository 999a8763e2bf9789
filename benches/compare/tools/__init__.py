"""One module per compared tool; see common.py for the shared definitions and process plumbing."""
