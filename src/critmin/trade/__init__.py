"""Trade policy (issue 15, DESIGN §8): a GSIM Armington partial equilibrium (:mod:`.gsim`), WITS-SMART for one
importer (:mod:`.smart`), trade worlds with dated tariff schedules (:mod:`.data`, :mod:`.load`) and runs
between two dates (:mod:`.run`). docs/deals.md describes the model, the data and the limits."""
