"""Demo programs: an airline, a hotel group and a retailer, with tiers, locations and dated rule sets."""

import datetime as dt
import math
from decimal import Decimal

from loyalty.models import EarningRule, EarningRuleSet, Location, Program, Tier

AIRLINE, HOTEL, RETAIL = "skyway", "maison", "marche"

PROGRAMS = {
    AIRLINE: dict(name="SkyWay Miles", kind=Program.Kind.AIRLINE, currency_name="Miles", time_zone="America/New_York"),
    HOTEL: dict(name="Maison Rewards", kind=Program.Kind.HOTEL, currency_name="Points", time_zone="Europe/Paris"),
    RETAIL: dict(name="Marché Plus", kind=Program.Kind.RETAIL, currency_name="Points", time_zone="America/Toronto"),
}
TIERS = {
    AIRLINE: ["Blue", "Silver", "Gold", "Platinum"],
    HOTEL: ["Member", "Silver", "Gold", "Platinum"],
    RETAIL: ["Bronze", "Silver", "Gold"],
}
# Share of members who end up on each tier (entry tier first).
TIER_WEIGHTS = {4: [60, 24, 12, 4], 3: [60, 28, 12]}
MEMBERSHIP_PREFIX = {AIRLINE: "SW", HOTEL: "MR", RETAIL: "MP"}
# Programs a member joins: probability per program (every member joins at least one).
JOIN_PROBABILITY = {AIRLINE: 0.7, HOTEL: 0.55, RETAIL: 0.35}

# Airports with coordinates, so flight distances are real great-circle miles.
AIRPORTS = {
    "JFK": ("New York JFK", "New York", "US", 40.64, -73.78),
    "LGA": ("New York LaGuardia", "New York", "US", 40.78, -73.87),
    "EWR": ("Newark Liberty", "Newark", "US", 40.69, -74.17),
    "BOS": ("Boston Logan", "Boston", "US", 42.36, -71.01),
    "ORD": ("Chicago O'Hare", "Chicago", "US", 41.98, -87.90),
    "ATL": ("Atlanta Hartsfield–Jackson", "Atlanta", "US", 33.64, -84.43),
    "MIA": ("Miami International", "Miami", "US", 25.79, -80.29),
    "LAX": ("Los Angeles International", "Los Angeles", "US", 33.94, -118.41),
    "SFO": ("San Francisco International", "San Francisco", "US", 37.62, -122.38),
    "DEN": ("Denver International", "Denver", "US", 39.86, -104.67),
    "YUL": ("Montréal–Trudeau", "Montréal", "CA", 45.47, -73.74),
    "MEX": ("Ciudad de México", "Ciudad de México", "MX", 19.44, -99.07),
    "SJU": ("San Juan Luis Muñoz Marín", "San Juan", "PR", 18.44, -66.00),
    "LHR": ("London Heathrow", "London", "GB", 51.47, -0.45),
    "CDG": ("Paris Charles de Gaulle", "Paris", "FR", 49.01, 2.55),
    "DUB": ("Dublin", "Dublin", "IE", 53.42, -6.27),
    "MAD": ("Madrid–Barajas Adolfo Suárez", "Madrid", "ES", 40.47, -3.57),
    "MUC": ("München Franz Josef Strauß", "München", "DE", 48.35, 11.79),
    "ZRH": ("Zürich", "Zürich", "CH", 47.46, 8.55),
    "GRU": ("São Paulo–Guarulhos", "São Paulo", "BR", -23.43, -46.47),
}
HUBS = ["JFK", "JFK", "JFK", "LGA", "EWR", "BOS"]
HOTELS = [
    ("PAR-OPERA", "Maison Opéra", "Paris", "FR", 240),
    ("PAR-MARAIS", "Maison Le Marais", "Paris", "FR", 210),
    ("LYS-BELLECOUR", "Maison Bellecour", "Lyon", "FR", 150),
    ("NCE-PROMENADE", "Maison Promenade des Anglais", "Nice", "FR", 190),
    ("BOD-CHARTRONS", "Maison Chartrons", "Bordeaux", "FR", 140),
    ("MRS-VIEUXPORT", "Maison Vieux-Port", "Marseille", "FR", 130),
    ("GVA-LAC", "Maison du Lac", "Genève", "CH", 320),
    ("BRU-SABLON", "Maison Sablon", "Bruxelles", "BE", 160),
    ("BCN-GRACIA", "Maison Gràcia", "Barcelona", "ES", 170),
    ("LIS-CHIADO", "Maison Chiado", "Lisboa", "PT", 150),
    ("MUC-ALTSTADT", "Maison Altstadt", "München", "DE", 180),
    ("CPH-NYHAVN", "Maison Nyhavn", "København", "DK", 230),
]
STORES = [
    ("S101", "Marché Plus Plateau-Mont-Royal", "Montréal"),
    ("S102", "Marché Plus Côte-des-Neiges", "Montréal"),
    ("S103", "Marché Plus Vieux-Québec", "Québec"),
    ("S104", "Marché Plus Trois-Rivières", "Trois-Rivières"),
    ("S105", "Marché Plus Saint-Jérôme", "Saint-Jérôme"),
    ("S106", "Marché Plus Lévis", "Lévis"),
    ("S107", "Marché Plus Gatineau", "Gatineau"),
    ("S108", "Marché Plus Sherbrooke", "Sherbrooke"),
]

# Rule set periods, the same calendar in every program: a new period gets a new set (seed 003).
PERIODS = [
    ("2025 H1", dt.date(2025, 1, 1), dt.date(2025, 6, 30)),
    ("2025 H2", dt.date(2025, 7, 1), dt.date(2025, 12, 31)),
    ("2026", dt.date(2026, 1, 1), None),
]
# Booking classes and their cabins; multipliers by booking class for distance rules.
BOOKING_CLASSES = {
    "economy": ["Y", "B", "M", "H", "Q", "K", "L"],
    "premium": ["W"],
    "business": ["J", "C", "D"],
    "first": ["F"],
}


def flight_miles(origin, destination):
    """Great-circle distance in statute miles between two demo airports."""
    _, _, _, lat1, lon1 = AIRPORTS[origin]
    _, _, _, lat2, lon2 = AIRPORTS[destination]
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return round(3958.8 * math.acos(max(-1.0, min(1.0, cos_angle))))


def _rules(program_code, period_name, tiers):
    """The rules of one program's set for one period, as EarningRule keyword dicts."""
    t = {tier.name: tier for tier in tiers}
    h2, y2026 = period_name == "2025 H2", period_name == "2026"
    if program_code == AIRLINE:
        multipliers = {"F": 3, "J": 2, "C": 2, "D": 1.5, "W": 1.25, "Y": 1, "B": 1, "M": 1, "H": 0.75, "Q": 0.5}
        if y2026:
            multipliers.update({"D": 1.75, "K": 0.5, "L": 0.25})
        bonuses = {"Silver": 25, "Gold": 50, "Platinum": 100 if not y2026 else 120}
        rules = [
            dict(
                name="Miles flown × booking class",
                activity_kind="flight",
                calculation="distance",
                rate=Decimal("1"),
                class_multipliers=multipliers,
            ),
            dict(
                name="Tier points: miles flown",
                activity_kind="flight",
                calculation="distance",
                metric="tier_points",
                rate=Decimal("1"),
                class_multipliers={},
            ),
        ]
        rules += [
            dict(
                name=f"{name} bonus {pct}%",
                activity_kind="flight",
                calculation="percent_base",
                metric="bonus",
                rate=Decimal(pct),
                tier=t[name],
            )
            for name, pct in bonuses.items()
        ]
        return rules
    if program_code == HOTEL:
        per_euro = Decimal("12") if y2026 else Decimal("10")
        rules = [
            dict(name=f"{per_euro} points per euro", activity_kind="stay", calculation="per_unit", rate=per_euro),
            dict(
                name="Tier points per euro",
                activity_kind="stay",
                calculation="per_unit",
                metric="tier_points",
                rate=Decimal("1"),
            ),
            dict(
                name="Long stay bonus",
                activity_kind="stay",
                calculation="fixed",
                metric="bonus",
                points=500 if h2 else 250,
                min_amount=Decimal("600"),
            ),
        ]
        rules += [
            dict(
                name=f"{name} bonus {pct}%",
                activity_kind="stay",
                calculation="percent_base",
                metric="bonus",
                rate=Decimal(pct),
                tier=t[name],
            )
            for name, pct in {"Silver": 10, "Gold": 25, "Platinum": 50}.items()
        ]
        return rules
    # Retail follows seed 003: 98 then 89 fixed points, then a percentage of the amount by tier.
    if period_name == "2025 H1":
        return [dict(name="98 points per purchase", activity_kind="purchase", calculation="fixed", points=98)]
    if h2:
        return [dict(name="89 points per purchase", activity_kind="purchase", calculation="fixed", points=89)]
    return [
        dict(
            name=f"{name} {pct}% of amount",
            activity_kind="purchase",
            calculation="percent",
            rate=Decimal(pct),
            tier=t[name],
        )
        for name, pct in {"Gold": 20, "Silver": 15, "Bronze": 10}.items()
    ]


def ensure_programs(codes):
    """Create what is missing of each program's configuration; existing rows are left as they are."""
    programs = {}
    for code in codes:
        program, _ = Program.objects.get_or_create(code=code, defaults=PROGRAMS[code])
        tiers = []
        for rank, name in enumerate(TIERS[code], start=1):
            tier, _ = Tier.objects.get_or_create(
                program=program, code=name.lower(), defaults={"name": name, "rank": rank}
            )
            tiers.append(tier)
        _ensure_locations(program)
        for name, valid_from, valid_to in PERIODS:
            rule_set, created = EarningRuleSet.objects.get_or_create(
                program=program,
                name=f"{program.name} {name}",
                defaults={"valid_from": valid_from, "valid_to": valid_to},
            )
            if created:
                EarningRule.objects.bulk_create(
                    EarningRule(rule_set=rule_set, **rule) for rule in _rules(code, name, tiers)
                )
        programs[code] = program
    return programs


def _ensure_locations(program):
    if program.code == AIRLINE:
        rows = [
            (code, name, city, country, Location.Kind.AIRPORT) for code, (name, city, country, _, _) in AIRPORTS.items()
        ]
    elif program.code == HOTEL:
        rows = [(code, name, city, country, Location.Kind.HOTEL) for code, name, city, country, _ in HOTELS]
    else:
        rows = [(code, name, city, "CA", Location.Kind.STORE) for code, name, city in STORES]
    existing = set(Location.objects.filter(program=program).values_list("code", flat=True))
    Location.objects.bulk_create(
        Location(program=program, code=code, name=name, city=city, country=country, kind=kind)
        for code, name, city, country, kind in rows
        if code not in existing
    )
