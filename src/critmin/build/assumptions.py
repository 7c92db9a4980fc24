"""critmin's documented assumptions for the 2024 baseline: everything the facts files do not pin down.

Each block says what it rests on. All rows built from these carry confidence=assumption (or secondary where
a secondary fact is used as is) and can be overridden with an override layer (`critmin world import`).
"""

from __future__ import annotations

YEAR = 2024

REGIONS = {
    "CHN": "China",
    "USA": "United States",
    "JPN": "Japan",
    "AUS": "Australia",
    "MYS": "Malaysia",
    "MMR": "Myanmar",
    "LAO": "Laos",
    "VNM": "Viet Nam",
    "THA": "Thailand",
    "IND": "India",
    "RUS": "Russia",
    "BRA": "Brazil",
    "MDG": "Madagascar",
    "NGA": "Nigeria",
    "KOR": "Republic of Korea",
    "EU": "European Union (27)",
    "ROW": "Rest of world",
}
AGGREGATE_REGIONS = {"EU", "ROW"}
# Countries reported separately in the facts but folded into an aggregate region.
COUNTRY_TO_REGION = {
    "AUT": "EU",
    "DEU": "EU",
    "FRA": "EU",
    "EST": "EU",
    "ESP": "EU",
    "DNK": "EU",
    "NLD": "EU",
    "ITA": "EU",
    "SVK": "EU",
    "EU27": "EU",
    "OTH": "ROW",
    "OTHER": "ROW",
    "CAN": "ROW",
    "GRL": "ROW",
    "ZAF": "ROW",
    "TZA": "ROW",
    "MOZ": "ROW",
    "PRK": "ROW",
    "NOR": "ROW",
    "LKA": "ROW",
    "TUR": "ROW",
    "UKR": "ROW",
    "MEX": "ROW",
    "KAZ": "ROW",
    "PHL": "ROW",
    "IDN": "ROW",
    "GBR": "ROW",
}
REGION_GROUPS = {
    "ally_us_jp": (["USA", "JPN"], "Parties to the US-Japan critical minerals framework of 2025-10-28."),
    "us_cm_partners_2025": (
        ["USA", "JPN", "AUS", "MYS", "THA"],
        "USA and the partners of its Oct-2025 critical-minerals frameworks and MoUs (AUS, MYS, THA, JPN).",
    ),
    "allies": (["USA", "JPN", "AUS", "KOR", "EU"], "US treaty allies and the EU (critmin grouping)."),
    "eu": (["EU"], "European Union."),
}

ELEMENT_NAMES_EXTRA = {"Ga": ("Gallium", 31), "graphite": ("Graphite (natural)", None)}
AGGREGATES = {
    "REE": (
        "Total rare earths (REO)",
        ["Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu"],
    ),
    "NdPr": ("Neodymium + praseodymium", ["Nd", "Pr"]),
}
LREE = {"La", "Ce", "Pr", "Nd", "Pm", "Sm"}

# --- mine stage -------------------------------------------------------------------------------------
# Ore type mined per region, in % of the region's REO output. China: 2024 quota split of ~19,150 t
# ionic-clay (medium/heavy) of 270,000 t (recalled, unconfirmed), shared equally between high-Y and
# low-Y clays; the rest Bayan Obo-type. Myanmar's Kachin clays are Dy/Tb-rich like south-China high-Y
# clays (deposit_composition.csv note). Monazite producers use Mount Weld's composition as a proxy.
ORE_MIX = {
    "USA": {"conc_bastnaesite_mp": 100.0},
    "CHN": {"conc_bayan_obo": 92.9, "conc_ionic_clay_hy": 3.55, "conc_ionic_clay_ly": 3.55},
    "AUS": {"conc_mount_weld": 100.0},
    "MMR": {"conc_ionic_clay_hy": 100.0},
    "LAO": {"conc_ionic_clay_ly": 100.0},
    "BRA": {"conc_ionic_clay_ly": 100.0},
}
DEFAULT_ORE = "conc_monazite"
CONCENTRATES = {
    "conc_bastnaesite_mp": ("Bastnaesite concentrate (Mountain Pass type)", "Mountain Pass"),
    "conc_bayan_obo": ("Bastnaesite-monazite concentrate (Bayan Obo type)", "Bayan Obo"),
    "conc_ionic_clay_hy": ("Ionic-clay concentrate, high-Y heavy (Longnan type)", "Longnan (Jiangxi) high-Y type"),
    "conc_ionic_clay_ly": ("Ionic-clay concentrate, low-Y light (Xunwu type)", "Xunwu (Jiangxi) low-Y type"),
    "conc_mount_weld": ("Monazite concentrate (Mount Weld)", "Mount Weld (Central Lanthanide Deposit)"),
    "conc_monazite": (
        "Monazite and other mixed concentrate (Mount Weld composition as proxy)",
        "Mount Weld (Central Lanthanide Deposit)",
    ),
}
# Mount Weld heavy rare earths are 'not found' in the facts: small typical monazite values (% of REO).
COMPOSITION_FILL = {"Ho": 0.02, "Er": 0.05, "Tm": 0.01, "Yb": 0.03, "Lu": 0.005, "Y": 0.3}

# --- separation stage -------------------------------------------------------------------------------
# Where each region's concentrate is separated, in % of its output. USGS estimates MMR, NGA, THA, MDG,
# MYS, VNM output from China's import data, so those go to China by construction. US->China uses the
# China-side figure (<28 kt REO, trade_flows.csv, secondary); the rest is separated at Mountain Pass.
# Lynas ships Mount Weld concentrate to Malaysia. Russian chloride feed partly goes to Silmet (Estonia).
CONCENTRATE_ROUTING = {
    "USA": {"CHN": 28000 / 45000 * 100, "USA": 100 - 28000 / 45000 * 100},
    "AUS": {"MYS": 100.0},
    "IND": {"IND": 100.0},
    "RUS": {"RUS": 40.0, "EU": 60.0},
}
DEFAULT_SEPARATOR = "CHN"
# Scandium is a by-product of TiO2 and other processing, not in any composition: t Sc2O3 (assumption).
SCANDIUM_OXIDE = {"CHN": 15.0, "RUS": 5.0, "ROW": 10.0}

# --- magnets ----------------------------------------------------------------------------------------
CHINA_NDFEB_T = 260000.0  # SMM expected 2024 output (consumption.csv, confirmed as a forecast)
# Shares of world NdFeB output (%). CHN from IEA (94 %, secondary); others critmin's split of the rest:
# Japan <9 % (c.2022) and falling; EU (VAC, Germany); Shin-Etsu Vietnam 2,200 t/yr capacity.
MAGNET_SHARE = {"CHN": 94.0, "JPN": 4.5, "EU": 0.5, "VNM": 0.5, "KOR": 0.2, "USA": 0.1, "ROW": 0.2}
# NdFeB recipe (t REO-equivalent per t magnet): 31 % Nd+Pr metal at Nd:Pr = 75:25 (DESIGN: 29-32 %),
# converted with oxide-to-metal mass factors Nd2O3 0.857 and Pr6O11 0.828. Dy and Tb are calibrated so
# that magnets absorb the primary Dy/Tb not used elsewhere (see NON_MAGNET_SHARE).
NDPR_METAL_FRACTION = 0.31
ND_TO_PR = (0.75, 0.25)
OXIDE_TO_METAL = {"Nd": 0.857, "Pr": 0.828, "Dy": 0.871, "Tb": 0.851}
# Share of each magnet element used outside NdFeB (%): glass, ceramics, phosphors (Tb), alloys.
NON_MAGNET_SHARE = {"Nd": 10.0, "Pr": 15.0, "Dy": 5.0, "Tb": 20.0}
# Magnet consumption by region, t magnet. EU 20,000 t (consumption.csv, secondary). USA: China's 7,444 t
# taken as 80 % of US use. JPN, KOR: critmin estimates. CHN: its output less its exports (58,152 t).
CHINA_MAGNET_EXPORTS_T = 58152.0
MAGNET_DEMAND = {"USA": 7444.0 / 0.8, "EU": 20000.0, "JPN": 12000.0, "KOR": 5000.0}
MAGNET_PINNED = {("CHN", "USA"): 7444.0, ("CHN", "EU"): 17000.0, ("CHN", "JPN"): 5075.0}
# NdFeB use by sector (%): electronics ~30 % by volume (secondary); EV/wind/industrial from value-share
# estimates (low-quality secondary) turned into volumes by critmin.
MAGNET_SECTORS = {
    "ev_motors": 30.0,
    "wind": 12.0,
    "industrial_motors": 18.0,
    "electronics": 28.0,
    "defence": 2.0,
    "other": 10.0,
}
NDFEB_GROWTH_PCT = 8.7  # forecast CAGR 2024-2040 of NdFeB demand (end_use.csv, secondary)

# --- magnet grades -----------------------------------------------------------------------------------
# Sintered NdFeB in three grades. All carry the same Nd+Pr (NDPR_METAL_FRACTION); they differ in Dy/Tb:
# bulk-alloyed high-coercivity grades carry 2-8 % Dy/Tb by mass (Mainrich 2026; 3-5 % per oceanmagnet);
# grain-boundary diffusion (GBD) reaches the same coercivity with 30-60 % (Mainrich comparison) to 50-70 %
# (Mainrich article; oceanmagnet: 3-5 % -> 1-2 %) less heavy rare earth; Dy/Tb-free grades carry none.
MAGNET_GRADES = {
    "NdFeB_hree": "Sintered NdFeB, high heavy-rare-earth (Dy/Tb bulk-alloyed)",
    "NdFeB_gbd": "Sintered NdFeB, low heavy-rare-earth (grain-boundary diffusion)",
    "NdFeB_free": "Sintered NdFeB, Dy/Tb-free",
}
# Grade mix of each magnet-using sector, % of the sector's NdFeB by mass (critmin assumption, no published
# split): GBD dominates thin-section EV traction magnets (Mainrich); direct-drive wind uses thick blocks that
# need bulk alloying (GBD penetrates 3-6 mm per face) and ~4 % Dy (Heim & Vander Wal 2023); defence needs
# the highest coercivity; electronics (HDD, speakers, phones) run cool on Dy/Tb-free N grades.
MAGNET_GRADE_MIX = {
    "ev_motors": {"NdFeB_hree": 15.0, "NdFeB_gbd": 80.0, "NdFeB_free": 5.0},
    "wind": {"NdFeB_hree": 60.0, "NdFeB_gbd": 35.0, "NdFeB_free": 5.0},
    "industrial_motors": {"NdFeB_hree": 30.0, "NdFeB_gbd": 40.0, "NdFeB_free": 30.0},
    "electronics": {"NdFeB_hree": 0.0, "NdFeB_gbd": 5.0, "NdFeB_free": 95.0},
    "defence": {"NdFeB_hree": 80.0, "NdFeB_gbd": 20.0, "NdFeB_free": 0.0},
    "other": {"NdFeB_hree": 20.0, "NdFeB_gbd": 30.0, "NdFeB_free": 50.0},
}
# Grade ratios (by metal mass) held fixed while the content levels are solved so that the production-weighted
# mean equals the calibrated Dy and Tb recipe: GBD carries 45 % of the bulk grade's Dy+Tb (a 55 % saving,
# mid of the published 30-70 %); the bulk grade is Dy-based, 5 % of its Dy+Tb being Tb (Tb costs ~3x Dy,
# reserved for top grades). GBD then takes the rest of the Tb (GBD mostly diffuses Tb).
GBD_HRE_RATIO = 0.45
HREE_TB_SHARE = 0.05
HREE_CONTENT_RANGE_PCT = (2.0, 8.0)  # published Dy+Tb range of bulk-alloyed grades: the solve must land in it
# GBD's diffusion anneal adds 5-15 % to processing cost (Mainrich): 10 % of the processing share of the
# magnet price (price less rare-earth content) is added to the GBD grade's reference price.
GBD_PROCESSING_PCT = 10.0
MAGNET_PROJECT_GRADE = "NdFeB_gbd"  # magnet projects outside China are taken to make the GBD grade

# --- metals ------------------------------------------------------------------------------------------
# Shares of RE metal and alloy output (%). China's '~90 %' is commonly quoted but unsourced
# (processing.csv: not found). Japan buys most metal from Vietnam (import_sources.csv).
METAL_SHARE = {"CHN": 91.0, "JPN": 3.0, "VNM": 3.0, "EU": 1.0, "USA": 0.5, "ROW": 1.5}

# --- non-magnet uses ---------------------------------------------------------------------------------
# Element split of non-magnet uses by sector and product form, % (from elements.csv main uses; critmin's
# weights). 'metal' uses draw metal/alloy, the rest draw oxides and compounds.
END_USE_SPLIT = {
    "La": [
        ("catalysts", "oxide", 45),
        ("glass_polishing", "oxide", 15),
        ("batteries", "metal", 20),
        ("metallurgy", "metal", 10),
        ("other", "oxide", 10),
    ],
    "Ce": [
        ("glass_polishing", "oxide", 45),
        ("catalysts", "oxide", 30),
        ("metallurgy", "metal", 15),
        ("other", "oxide", 10),
    ],
    "Pr": [("glass_polishing", "oxide", 40), ("metallurgy", "metal", 40), ("other", "oxide", 20)],
    "Nd": [
        ("glass_polishing", "oxide", 30),
        ("metallurgy", "metal", 30),
        ("catalysts", "oxide", 20),
        ("other", "oxide", 20),
    ],
    "Sm": [("defence", "metal", 50), ("other", "oxide", 50)],
    "Eu": [("phosphors", "oxide", 90), ("other", "oxide", 10)],
    "Gd": [("metallurgy", "metal", 40), ("other", "oxide", 60)],
    "Tb": [("phosphors", "oxide", 80), ("other", "metal", 20)],
    "Dy": [("other", "metal", 100)],
    "Ho": [("other", "metal", 100)],
    "Er": [("glass_polishing", "oxide", 60), ("other", "oxide", 40)],
    "Tm": [("other", "oxide", 100)],
    "Yb": [("other", "oxide", 100)],
    "Lu": [("catalysts", "oxide", 50), ("other", "oxide", 50)],
    "Y": [("phosphors", "oxide", 20), ("other", "oxide", 70), ("metallurgy", "metal", 10)],
    "Sc": [("metallurgy", "metal", 40), ("other", "oxide", 60)],
}
# Regional non-magnet REE consumption, t REO. USA: USGS apparent consumption of compounds and metals
# 2024 (confirmed). EU: net imports 2024 as apparent-use proxy (confirmed, derived). JPN: 18,112 t in
# 2017 (secondary) less ~5 kt for its magnet makers. IND: consumes its own output. CHN: the remainder.
NON_MAGNET_DEMAND = {
    "USA": 6600.0,
    "EU": 7400.0,
    "JPN": 13000.0,
    "KOR": 3000.0,
    "IND": 2900.0,
    "RUS": 1000.0,
    "ROW": 12000.0,
}
DEMAND_ELASTICITY = -0.1  # short-run; no published estimate (elasticities.csv: NOT FOUND)

# --- gallium ------------------------------------------------------------------------------------------
GA_REFINED_T = 320.0  # world high-purity refined output 2024 (USGS, confirmed)
GA_REFINED_SHARE = {"CHN": 50.0, "JPN": 20.0, "USA": 10.0, "EU": 10.0, "ROW": 10.0}
GA_DEMAND_SHARE = {"CHN": 45.0, "JPN": 15.0, "USA": 12.0, "KOR": 10.0, "EU": 8.0, "ROW": 10.0}

# --- graphite -----------------------------------------------------------------------------------------
GRAPHITE_ROUTING = {"MDG": {"CHN": 60.0, "MDG": 40.0}, "ROW": {"CHN": 40.0, "ROW": 60.0}}
GRAPHITE_DEMAND_SHARE = {"CHN": 70.0, "JPN": 6.0, "KOR": 6.0, "EU": 6.0, "USA": 4.0, "IND": 3.0, "ROW": 5.0}
GRAPHITE_SECTORS = {"batteries": 50.0, "metallurgy": 35.0, "other": 15.0}

# --- stocks -------------------------------------------------------------------------------------------
JOGMEC_DAYS = 60.0  # days-of-cover target named in DESIGN.md; not in the facts files
JOGMEC_PRODUCTS = ("Dy_oxide", "Tb_oxide", "Nd_oxide", "Pr_oxide")
# Private inventories outside China, in days of 2024 use (no published figure; critmin assumptions).
# Magnet makers' metal stocks: Japanese makers keep rare-earth stocks above consumption for security (Japan
# Metal Bulletin 2009) and Shin-Etsu ran at full capacity through the 2025 controls (CNA, 2026-01-09): 90
# days; others 60 days (the JOGMEC target). Magnet users (automakers and their suppliers, motor and device
# makers): just-in-time stocks of critical parts run 2-4 weeks, and plants began to stop about two months
# after the 2025-04-04 licensing (Reuters 2025-06-09: factories idled by mid-July without backup supply):
# 45 days of magnets (finished-part and pipeline stocks included).
MAGNET_MAKER_STOCK_DAYS = {"JPN": 90.0, "default": 60.0}
MAGNET_USER_STOCK_DAYS = 45.0
MAGNET_STOCK_ELEMENTS = ("Nd", "Pr", "Dy", "Tb")
# Producers' working inventory (separated oxides, metals, magnets, refined Ga, processed graphite), in days of
# their 2024 output: material in process and in the warehouse between production and shipment. No published
# figure; critmin assumption of about a month.
PRODUCER_STOCK_DAYS = 30.0
PRODUCER_STOCK_STAGES = ("separation", "metal", "magnet")

UTILISATION = 0.85  # capacity = output / utilisation where no capacity figure is published

# --- reference prices (USD/kg, 2024) -----------------------------------------------------------------
# Observed 2024 quotes used where the facts have them (see reference_prices.py); the rest are assumptions.
# Order-of-magnitude 2024 oxide prices for elements without a quote in the facts files.
OXIDE_PRICE_ASSUMED = {
    "Sc": 1000.0, "Y": 6.0, "Pm": 1.0, "Sm": 2.0, "Gd": 20.0, "Ho": 60.0,
    "Er": 40.0, "Tm": 100.0, "Yb": 15.0, "Lu": 700.0,
}  # fmt: skip
# Metal (oxide-equivalent) over oxide price: NdPr metal 63 vs NdPr oxide 51-53 USD/kg FOB China, July 2024.
METAL_PREMIUM = 1.2
NDFEB_PRICE = 55.0  # sintered NdFeB, USD/kg: roughly twice its rare-earth content at 2024 prices
# Share of the contained-oxide value that separation (cracking, solvent extraction) costs; the
# concentrate is priced at the remainder.
SEPARATION_COST_SHARE = 0.40
GRAPHITE_PROCESSED_PRICE = 3.0  # purified spherical graphite, USD/kg of natural-graphite feed

# --- shortage response -------------------------------------------------------------------------------
# Sectors (ids as in demand.sector) with display names and the value of lost load as a multiple of the
# product's reference price. Civil sectors 10x: buyers kept buying when Nd and Dy prices rose 10-20x in 2011
# (prices.csv, secondary), so rationing sets in around there; defence 30x: a magnet is a negligible share of
# a weapon system's cost and programmes pay far above market to keep running (critmin assumption). These are
# the engine's former defaults (market/settings.py).
SECTORS = {
    "ev_motors": "EV traction motors",
    "wind": "Wind turbine generators",
    "industrial_motors": "Industrial motors and drives",
    "electronics": "Consumer electronics",
    "defence": "Defence",
    "catalysts": "Catalysts",
    "glass_polishing": "Glass and polishing",
    "phosphors": "Phosphors",
    "metallurgy": "Metallurgy and alloys",
    "batteries": "Batteries (NiMH alloys, graphite anodes)",
    "other": "Other uses",
}
VOLL_MULTIPLE = 10.0
VOLL_MULTIPLE_BY_SECTOR = {"defence": 30.0}

# Grade switching before rationing: (grade demanded, grade used instead) -> (extra cost as a multiple of
# NDFEB_PRICE per kg of the grade used, most of the demanded grade's regional demand met this way, %).
# hree <- gbd: GBD covers most high-coercivity specs in thin sections for ~10 % of the magnet price (the
#   diffusion anneal, +5-15 % processing, plus requalification), but Tb penetrates only 3-6 mm per face, so
#   thick blocks (wind, large machines) still need bulk alloying: at most 60 %.
# gbd <- free, hree <- free: Dy/Tb-free magnets need a motor redesigned for lower magnet temperature (cooling,
#   thicker magnets); Honda and Daido took 2012-2016 for the first such hybrid motor: costly, small short-run caps.
# Upgrades (a grade with more Dy/Tb meets the demand for one with less) cost nothing extra but the price gap.
PRODUCT_SWITCH = {
    ("NdFeB_hree", "NdFeB_gbd"): (0.10, 60.0),
    ("NdFeB_gbd", "NdFeB_free"): (0.30, 20.0),
    ("NdFeB_hree", "NdFeB_free"): (0.50, 10.0),
    ("NdFeB_free", "NdFeB_gbd"): (0.0, 100.0),
    ("NdFeB_free", "NdFeB_hree"): (0.0, 100.0),
    ("NdFeB_gbd", "NdFeB_hree"): (0.0, 100.0),
}
# Demand response of magnet-using sectors, the same for every grade: option -> (cost as a multiple of the
# grade's reference price per kg of magnet demand displaced, short-run cap in % of the sector's reference
# demand per step). All costs stay below the sector's VOLL multiple. No published short-run figures:
# thrift = less magnet per unit through design optimisation (Nissan cut Leaf Dy 40 % by 2012, NEDO 40 %;
#   magnet mass is harder to cut quickly): cheap, 5-10 %;
# substitute = ferrite magnets, induction or wound-rotor (EESM) motors: about 23 % of EV traction motors were
#   already magnet-free in 2020 (IDTechEx: 17 % induction, 6 % EESM; BMW, Renault EESM; Tesla induction
#   motors), induction motors are the industrial standard, direct-drive wind and defence have no quick
#   substitute (geared DFIG turbines, SmCo).
DEMAND_RESPONSE = {
    "ev_motors": {"thrift": (2.0, 10.0), "substitute": (4.0, 15.0)},
    "wind": {"thrift": (2.0, 5.0), "substitute": (6.0, 5.0)},
    "industrial_motors": {"thrift": (1.5, 10.0), "substitute": (3.0, 40.0)},
    "electronics": {"thrift": (1.5, 10.0), "substitute": (4.0, 10.0)},
    "defence": {"thrift": (3.0, 5.0), "substitute": (8.0, 2.0)},
    "other": {"thrift": (1.5, 10.0), "substitute": (3.0, 20.0)},
}

# Reservation price, as a multiple of the reference price, at or below which producers hold output in stock
# rather than sell (no published figure). 2024 prices were already at four-year lows, below what most
# producers need to earn their cost of capital (Benchmark, 2024), yet producers kept selling: the 2024
# reference is above cash cost. When prices fell 76 % from the 2011 high, China's State Reserve Bureau bought
# above market (Bloomberg 2014-08-05): the state, not producers, held the surplus. critmin: 0.7 for oxides,
# metals and other processed products (cash cost ~70 % of the 2024 price); 0.8 for magnets, made to order,
# whose cash cost (rare-earth content ~55 % of the price plus processing) is closer to the price.
RESERVATION_MULTIPLE = {"magnet": 0.8, "default": 0.7}
RESERVATION_STAGES = ("separation", "metal", "magnet")
