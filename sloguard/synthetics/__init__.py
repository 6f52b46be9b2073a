"""The synthetic suite's engine: plan the checks from the catalog, run them concurrently, report.

The pytest plugin (`sloguard.synthetics.plugin`) turns each planned check into one pytest item;
the checks themselves run in one concurrent batch, because a sweep of hundreds of endpoints one
request after another would take minutes.
"""
