"""The time loop: monthly clearing against a cached baseline, shocks applied by their handlers, state carried
between months (stocks, in-use stocks, substitution), draws of many variants, summaries and plausibility flags."""
