"""Benchmarks of the API against a bare-Django baseline measured in the same run (`make bench`); not tests."""
