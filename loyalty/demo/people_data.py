"""Name, e-mail and phone material for demo members: accents, hyphens and apostrophes on purpose."""

import unicodedata

# (first names, last names, phone format) per locale. Phone numbers are random in each
# country's mobile format; North American ones use 555-01xx, reserved for fiction.
LOCALES = {
    "fr": (
        [
            "Zoë",
            "Maëlle",
            "Chloé",
            "Hélène",
            "Léa",
            "Anaïs",
            "Océane",
            "Jérôme",
            "François",
            "Gaël",
            "Noël",
            "Benoît",
            "Thaïs",
            "Loïc",
            "Éloïse",
            "Rémi",
            "Cécile",
            "Aurélien",
            "Josée",
            "Inès",
        ],
        [
            "Lefèvre-Martin",
            "Dupont-Durand",
            "Lefèvre",
            "Bénard",
            "Gérard",
            "Moreau",
            "Lemaître",
            "Fournier",
            "Giraud-Lambert",
            "Château",
            "Bérenger",
            "Roussel",
            "Faure",
            "Lécuyer",
            "Mercier-Leroy",
            "Daigneault",
        ],
        "+33 6 {a:02d} {b:02d} {c:02d} {d:02d}",
    ),
    "es": (
        [
            "José",
            "María",
            "Íñigo",
            "Begoña",
            "Sofía",
            "Martín",
            "Lucía",
            "Álvaro",
            "Ángela",
            "Raúl",
            "Inés",
            "Jesús",
            "Nuria",
            "Óscar",
        ],
        [
            "Nuñez",
            "García-Márquez",
            "Muñoz",
            "Peña",
            "Ibáñez",
            "Ordóñez",
            "Fernández",
            "Domínguez",
            "Sánchez-Vicario",
            "Gutiérrez",
            "Cañizares",
        ],
        "+34 6{a:02d} {e:03d} {f:03d}",
    ),
    "de": (
        ["Jürgen", "Jörg", "Günther", "Björn", "Käthe", "Müge", "Anja", "Lukas", "Lena", "Tobias", "Ute", "Sören"],
        [
            "Müller",
            "Schäfer",
            "Groß",
            "Köhler",
            "Bäcker",
            "Schröder-Weiß",
            "Jäger",
            "Krüger",
            "Vogel",
            "Hoffmann",
            "Weiß",
        ],
        "+49 151 {e:03d} {f:03d}{a:02d}",
    ),
    "ie": (
        ["Siobhán", "Seán", "Áine", "Niamh", "Oisín", "Caoimhe", "Pádraig", "Róisín", "Ciarán", "Eóin"],
        [
            "O'Brien",
            "O'Sullivan",
            "McCarthy",
            "Ó Ceallaigh",
            "D'Arcy",
            "Fitzgerald",
            "O'Connor-Walsh",
            "Mac Giolla",
            "Ní Bhriain",
        ],
        "+353 85 {e:03d} {f:04d}",
    ),
    "us": (
        [
            "James",
            "Olivia",
            "Ava",
            "Noah",
            "Emma",
            "Mason",
            "Harper",
            "Ethan",
            "Chloe",
            "Logan",
            "Madison",
            "Aiden",
            "Grace",
            "Elijah",
            "Zoe",
            "Mary-Kate",
            "Jean-Luc",
            "Renée",
        ],
        [
            "Smith",
            "Johnson",
            "Williams",
            "Brown",
            "Jones-Taylor",
            "Miller",
            "Davis",
            "Wilson",
            "Anderson",
            "Thomas",
            "Jackson",
            "White-Harris",
            "Martínez",
            "Nguyễn",
            "Kowalski",
        ],
        "+1 212-555-01{a:02d}",
    ),
    "nordic": (
        ["Åsa", "Søren", "Bjørn", "Märta", "Øystein", "Ingrid", "Kåre", "Åke", "Linnéa", "Håkon"],
        ["Sørensen", "Åberg", "Ødegård", "Lindqvist", "Björklund", "Jørgensen", "Ångström", "Nyström"],
        "+46 70 {e:03d} {c:02d} {a:02d}",
    ),
    "pt": (
        ["João", "Conceição", "Tomás", "Inês", "Gonçalo", "Leonor", "Sebastião", "Ana-Luísa"],
        ["Gonçalves", "Simões", "Magalhães", "Araújo", "Conceição", "Brandão", "Leitão-Lopes"],
        "+351 91{d:01d} {e:03d} {f:03d}",
    ),
    "pl": (
        ["Łukasz", "Małgorzata", "Paweł", "Agnieszka", "Wojciech", "Zofia", "Michał", "Bożena"],
        ["Wiśniewski", "Wójcik", "Kowalczyk", "Zieliński", "Szymańska", "Dąbrowski", "Łuczak"],
        "+48 601 {e:03d} {f:03d}",
    ),
}
# fmt: on
# Weights follow the programs' home markets (a New York airline, a Paris hotel group).
LOCALE_WEIGHTS = {"us": 30, "fr": 25, "es": 10, "de": 10, "ie": 8, "nordic": 6, "pt": 6, "pl": 5}

# The first demo members are fixed so screenshots, tests and the portal login find them.
CURATED = [
    ("Zoë", "Lefèvre-Martin", "fr"),
    ("José", "Nuñez", "es"),
    ("Jürgen", "Müller", "de"),
    ("Siobhán", "O'Brien", "ie"),
    ("Hélène", "Dupont-Durand", "fr"),
    ("Søren", "Åberg", "nordic"),
    ("João", "Gonçalves", "pt"),
    ("Łukasz", "Wiśniewski", "pl"),
    ("Renée", "Martínez", "us"),
    ("Chloé", "Giraud-Lambert", "fr"),
]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
MEMBERSHIP_TYPES = ["Individual"] * 8 + ["Family", "Corporate"]


def ascii_slug(value):
    """ASCII mailbox part: 'Lefèvre-Martin' -> 'lefevre-martin', "O'Brien" -> 'obrien'."""
    decomposed = unicodedata.normalize("NFKD", value)
    # Letters that do not decompose into base + accent.
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.translate(str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "Ł": "L"}))
    return "".join(c for c in plain.lower().replace(" ", "-") if c.isascii() and (c.isalnum() or c == "-"))


def person(rng, index):
    """(first name, last name, e-mail, phone) of demo member number `index` (1-based)."""
    if index <= len(CURATED):
        first, last, locale = CURATED[index - 1]
    else:
        locale = rng.choices(list(LOCALE_WEIGHTS), weights=list(LOCALE_WEIGHTS.values()))[0]
        firsts, lasts, _ = LOCALES[locale]
        first, last = rng.choice(firsts), rng.choice(lasts)
    phone_format = LOCALES[locale][2]
    phone = phone_format.format(
        a=rng.randrange(100),
        b=rng.randrange(100),
        c=rng.randrange(100),
        d=rng.randrange(10),
        e=rng.randrange(1000),
        f=rng.randrange(1000),
    )
    email = f"{ascii_slug(first)}.{ascii_slug(last)}.{index}@{rng.choice(EMAIL_DOMAINS)}"
    return first, last, email, phone
