"""Hypothesis settings for the fuzzer: few examples per route, deterministic by default.

FUZZ_PROFILE=deep runs many more random examples (not derandomized) when hunting bugs locally.
"""

import os

from hypothesis import HealthCheck, settings

from tests.test_access import world  # noqa: F401 - the access matrix's objects, reused

_checks = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile(
    "fuzz-ci",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_checks,
    print_blob=True,
)
settings.register_profile(
    "fuzz-deep",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    derandomize=False,
    database=None,
    suppress_health_check=_checks,
    print_blob=True,
)
FUZZ_SETTINGS = settings.get_profile(
    "fuzz-deep" if os.environ.get("FUZZ_PROFILE") == "deep" else "fuzz-ci"
)
