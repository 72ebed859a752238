"""Black-box search strategies over tabular benchmarks (one file each)."""
