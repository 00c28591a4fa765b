"""The benchmark suite (see bench/README.md); a package so the server can import bench.connector."""
