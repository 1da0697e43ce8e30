"""Support shared by tests and benches (and the CLI's scripted runs): not the product's core."""
