"""The test tools: the sample company generator, its labelled defects, the detection evaluation and the
benchmark. They exercise the product; the product's modules (pipelines/lib, pipelines/defs, quality) never
import them (tests/test_layout.py). Only the CLI's sample commands (generate, next-day, run on an empty
landing folder, benchmark, evaluate-detection) reach them."""
