"""What model calls cost. `prices` owns the price table and the USD arithmetic re-exported here."""

from gptbot.costs.prices import (
    FREE_PROVIDERS,
    PRICES_ENV,
    Price,
    PriceTable,
    TokenCounts,
    cost_usd,
    worst_case_cost,
)

__all__ = [
    "FREE_PROVIDERS",
    "PRICES_ENV",
    "Price",
    "PriceTable",
    "TokenCounts",
    "cost_usd",
    "worst_case_cost",
]
