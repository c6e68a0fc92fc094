"""Calibration evidence the toolkit produces itself: SBC and interval coverage."""

from .coverage import CoverageResult, coverage
from .sbc import SBCResult, sbc

__all__ = ["CoverageResult", "SBCResult", "coverage", "sbc"]
