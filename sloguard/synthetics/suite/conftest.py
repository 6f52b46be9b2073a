"""The synthetic suite: `pytest synthetics [--sloguard-config F] [--target URL] [--read-only]`.

The checks are planned from the config and the target's OpenAPI description by the sloguard
plugin; the modules here choose which kinds of check each holds. Add your own tests beside them:
the `sloguard_session` fixture gives the config, catalog and plan.
"""

pytest_plugins = ["sloguard.synthetics.plugin"]
