"""REST routes, one module per resource: world, analysis (indicators, exposure, supply chain), scenarios and
jobs, runs."""
