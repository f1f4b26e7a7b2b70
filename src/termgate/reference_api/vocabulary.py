"""Words of Dutch payroll the generated records draw on, by collection or by field."""

from __future__ import annotations

from termgate.reference_api import dutch

HOUR_CODES = ("Gewerkte uren", "Overuren 125%", "Overuren 150%", "Ziekte-uren", "Verlofuren",
              "Reisuren", "Nachturen", "Weekenduren")  # fmt: skip
WAGE_COMPONENTS = ("Reiskostenvergoeding", "Thuiswerkvergoeding", "Bonus", "Overwerktoeslag",
                   "Ploegentoeslag", "Onkostenvergoeding", "Eindejaarsuitkering")  # fmt: skip
COLLECTIVE_AGREEMENTS = ("Geen cao", "Cao Metalektro", "Cao Horeca", "Cao Bouw & Infra",
                         "Cao Detailhandel", "Cao Kinderopvang", "Cao Beroepsgoederenvervoer",
                         "Cao Zorg en Welzijn")  # fmt: skip
# A record's `description` by its collection (lower case); other collections number their records.
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "hourcodes": HOUR_CODES,
    "fixedhours": HOUR_CODES,
    "variablehours": HOUR_CODES,
    "costcenters": dutch.DEPARTMENTS,
    "employeecostcenters": dutch.DEPARTMENTS,
    "departments": dutch.DEPARTMENTS,
    "department": dutch.DEPARTMENTS,
    "function": dutch.JOB_TITLES,
    "birthcountry": ("Nederland",),
    "country": ("Nederland",),
    "nationality": ("Nederlandse",),
    "sector": ("Zakelijke dienstverlening", "Horeca", "Bouwnijverheid", "Detailhandel"),
    "parentalleavetype": ("Betaald ouderschapsverlof", "Onbetaald ouderschapsverlof"),
    "functions": dutch.JOB_TITLES,
    "costunits": ("Project Noord", "Project Zuid", "Onderhoud", "Nieuwbouw", "Service", "Advies"),
    "leavegroups": ("Wettelijk verlof", "Bovenwettelijk verlof", "ADV", "Seniorendagen"),
    "leavebalances": ("Wettelijk verlof", "Bovenwettelijk verlof", "ADV", "Seniorendagen"),
    "tags": ("Uitzendkrachten", "Kantoor", "Buitendienst", "Stagiairs", "Management"),
    "labouragreementsettings": COLLECTIVE_AGREEMENTS,
    "bankaccounts": ("Salarisrekening", "Spaarrekening", "Onkostenrekening"),
    "defaulttemplates": ("Standaard medewerker", "Uurloner", "Oproepkracht", "Stagiair",
                         "Directie"),
    "documents/types": ("Arbeidsovereenkomst", "Loonstrook", "Jaaropgaaf", "Kopie ID-bewijs",
                        "Loonbelastingverklaring", "Verlofaanvraag"),
    "documents/folders": ("Contracten", "Salaris", "Verzuim", "Persoonlijk", "Beoordelingen"),
    "salarytables": COLLECTIVE_AGREEMENTS,
    "wagemodels": ("Maandloners", "Uurloners", "Oproepkrachten", "Stagiairs"),
    "extrafieldsettings": ("Pasnummer", "Kledingmaat", "Rijbewijs", "Parkeervergunning"),
    "extrafields": ("Pasnummer", "Kledingmaat", "Rijbewijs", "Parkeervergunning"),
    "runs": ("Reguliere salarisrun", "Correctierun", "Vakantiegeldrun", "Bonusrun"),
    "schedules": ("Fulltime rooster", "Parttime rooster", "Ploegendienst", "Weekendrooster"),
}  # fmt: skip
END_REASONS = ("Einde tijdelijk contract", "Ontslag op eigen verzoek", "Pensioen",
               "Ontslag met wederzijds goedvinden", "Overlijden",
               "Ontslag tijdens proeftijd")  # fmt: skip
CARS = (("Volkswagen", "ID.3"), ("Kia", "Niro"), ("Tesla", "Model 3"), ("Peugeot", "e-208"),
        ("Skoda", "Enyaq"), ("Toyota", "Corolla"))  # fmt: skip
LEASE_COMPANIES = ("LeasePlan", "Athlon", "Arval", "Alphabet", "Terberg Business Lease")
RELATIONSHIPS = ("Partner", "Moeder", "Vader", "Broer", "Zus", "Buurman")
SCALES = "ABCDEFGHIJ"
# Codes of the wage tax and social insurance settings (Dutch loonaangifte codes), by field.
CODES: dict[str, str] = {
    "natureofemployment": "11",
    "phaseclassification": "2",
    "codezvw": "K",
    "incomerelatedcontributionzvw": "K",
    "influenceobligedinsurance": "0",
    "incometype": "15",
    "specialtable": "white",
    "differentspecialrate": "0",
    "sectorcode": "44",
    "contributionpercentage": "5.5",
    "caocode": "9999",
    "calcmethoddescription": "Vast rooster",
    "absencedossiertype": "Ziekte",
    "absencecause": "unknown",
    "status": "sent",
    "rel": "self",
    "method": "GET",
    "ascription": "Eigen naam",
    "remark": "Geen bijzonderheden",
    "value": "Ja",
}
