"""faultline_client: drive faultline boxes over their HTTP API from Python and pytest."""

from faultline_client.client import Box, FaultlineError, format_at
from faultline_client.stats import Counts, Stats

__all__ = ["Box", "FaultlineError", "Counts", "Stats", "format_at"]
