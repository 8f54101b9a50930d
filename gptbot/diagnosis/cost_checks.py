"""Checks of the limits and prices: budgets that can work, and a price for every model that
may answer (a dollar budget cannot count the spend of an unpriced model)."""

from __future__ import annotations

from typing import Any

from gptbot.core.errors import ConfigError
from gptbot.costs.prices import PriceTable, unpriced_models
from gptbot.diagnosis.catalog import Problem
from gptbot.diagnosis.graph import Context
from gptbot.llm.providers import PROVIDERS

# (setting, CostLimits field) of each dollar budget, narrowest first.
BUDGETS = (("GPTBOT_USER_DAILY_BUDGET_USD", "user_daily_usd"),
           ("GPTBOT_CHANNEL_DAILY_BUDGET_USD", "channel_daily_usd"),
           ("GPTBOT_DAILY_BUDGET_USD", "app_daily_usd"),
           ("GPTBOT_MONTHLY_BUDGET_USD", "app_monthly_usd"))
# (narrower, wider): the narrower above the wider is never reached, the wider stops first.
# (A user's above a channel's may still be reached: one user talks in many channels.)
NESTED = tuple((BUDGETS[narrow][0], BUDGETS[wide][0])
               for narrow, wide in ((0, 2), (1, 2), (0, 3), (1, 3), (2, 3)))


def limits(context: Context) -> str:
    budgets = set_budgets(context.config.limits)
    for narrow, wide in NESTED:
        if narrow in budgets and wide in budgets and budgets[narrow] > budgets[wide]:
            raise Problem("limits.unreachable", narrow=narrow, narrow_usd=budgets[narrow],
                          wide=wide, wide_usd=budgets[wide])
    return ", ".join(f"{name}={usd:g}" for name, usd in budgets.items()) or "no dollar budgets"


def set_budgets(cost_limits: Any) -> dict[str, float]:
    """The dollar budgets in use (0 = off), by setting name, narrowest first."""
    return {name: getattr(cost_limits, field) for name, field in BUDGETS
            if getattr(cost_limits, field)}


def prices(context: Context) -> str:
    """Every model that may answer needs a price: a budget must not take it for free."""
    config = context.config
    try:
        table = PriceTable.load(config.prices_file)
    except ConfigError as exc:
        raise Problem("prices.invalid", error=str(exc)) from exc
    # A provider nobody knows is its fallback check's failure, not a missing price.
    chain = [(provider, name) for provider, name in config.model_chain() if provider in PROVIDERS]
    missing = ", ".join(unpriced_models(table, chain))
    budgets = set_budgets(config.limits)
    if missing and budgets:
        raise Problem("prices.budget_blind", models=missing, budget=next(iter(budgets)),
                      prices_file=config.prices_file or "unset")
    if missing:
        raise Problem("prices.missing", models=missing)
    return f"{len(chain)} model(s) priced"
