"""Test support shipped with the package, for the tests and the benchmarks alike.

Nothing in the running bot imports it; it lives here so that code outside ``tests/`` (the
benchmarks) can use the same doubles through the installed package.
"""
