"""Zero-cost proxies (one file each) and proxy ensembles, registered via the entry point."""
