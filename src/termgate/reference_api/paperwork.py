"""The payroll documents themselves: payslips, annual statements, wage tax returns, SEPA payment
files, journals and wage codes, computed from the seeded world (rates are simplified)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from termgate.reference_api import dutch
from termgate.reference_api.files import element, pdf, xml
from termgate.reference_api.state import PublishedApi
from termgate.reference_api.world import Company, Person

Render = Callable[[PublishedApi, int, int, int, int], tuple[str, bytes]]
SEPA = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
TAX_OFFICE_IBAN = "NL86INGB0002445588"  # Belastingdienst, the payee of every wage tax payment
MAX_TRANSFERS = 500


def _amounts(person: Person) -> dict[str, float]:
    gross = person.monthly_salary
    pension = round(gross * 0.055, 2)
    taxable = gross - pension
    tax = round(max(taxable * 0.3582 - 280.0, 0.0), 2)
    return {"gross": gross, "pension": pension, "taxable": round(taxable, 2), "wageTax": tax,
            "net": round(taxable - tax, 2)}  # fmt: skip


def _money(value: float) -> str:
    return f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def payslip(api: PublishedApi, owner: int, year: int, period: int, position: int
            ) -> tuple[str, bytes]:  # fmt: skip
    person = api.world.person(owner)
    company = api.world.companies[person.company]
    amounts = _amounts(person)
    lines = [
        f"{company.name}  -  loonheffingennummer {company.payroll_tax_number}",
        f"Werknemer: {person.full_name} (personeelsnummer {person.number})",
        f"BSN: {person.bsn}   Geboortedatum: {person.birth_date.isoformat()}",
        f"Periode: {period:02d}-{year}   Functie: {person.job_title}",
        f"Uren per week: {person.hours_per_week:g}",
        "",
        f"Salaris                         EUR {_money(amounts['gross'])}",
        f"Pensioenpremie werknemer        EUR -{_money(amounts['pension'])}",
        f"Loonheffing (witte tabel)       EUR -{_money(amounts['wageTax'])}",
        f"Netto uit te betalen            EUR {_money(amounts['net'])}",
        "",
        f"Uitbetaald op {person.iban}",
    ]
    return f"loonstrook-{person.number}-{year}-{period:02d}.pdf", pdf("Loonstrook", lines)


def annual_statement(api: PublishedApi, owner: int, year: int, period: int, position: int
                     ) -> tuple[str, bytes]:  # fmt: skip
    person = api.world.person(owner)
    company = api.world.companies[person.company]
    amounts = {key: value * 12 for key, value in _amounts(person).items()}
    lines = [
        f"Werkgever: {company.name}, {company.street} {company.house_number}, "
        f"{company.postal_code} {company.city}",
        f"Loonheffingennummer: {company.payroll_tax_number}",
        f"Werknemer: {person.full_name}, BSN {person.bsn}",
        f"Adres: {person.street} {person.house_number}, {person.postal_code} {person.city}",
        "",
        f"Loon voor de loonheffingen        EUR {_money(amounts['taxable'])}",
        f"Ingehouden loonheffing            EUR {_money(amounts['wageTax'])}",
        "Toegepaste loonheffingskorting    ja",
        f"Bijdrage Zvw                      EUR {_money(amounts['taxable'] * 0.0526)}",
    ]
    return f"jaaropgaaf-{person.number}-{year}.pdf", pdf(f"Jaaropgaaf {year}", lines)


def _staff(api: PublishedApi, company: Company) -> list[Person]:
    count = min(api.world.employee_count(company), MAX_TRANSFERS)
    return [api.world.person(index) for index in api.world.employee_indices(company, 0, count)]


def _sepa(company: Company, ident: str, when: date, transfers: list[tuple[str, str, float, str]]
          ) -> bytes:  # fmt: skip
    total = round(sum(amount for _, _, amount, _ in transfers), 2)
    bic, _ = dutch.bank_of(company.iban)
    payments = element(
        "PmtInf",
        element("PmtInfId", f"{ident}-1"),
        element("PmtMtd", "TRF"),
        element("NbOfTxs", str(len(transfers))),
        element("CtrlSum", f"{total:.2f}"),
        element("ReqdExctnDt", when.isoformat()),
        element("Dbtr", element("Nm", company.name)),
        element("DbtrAcct", element("Id", element("IBAN", company.iban))),
        element("DbtrAgt", element("FinInstnId", element("BIC", bic))),
    )
    for number, (name, iban, amount, text) in enumerate(transfers, start=1):
        payments.append(element(
            "CdtTrfTxInf",
            element("PmtId", element("EndToEndId", f"{ident}-{number}")),
            element("Amt", element("InstdAmt", f"{amount:.2f}", Ccy="EUR")),
            element("Cdtr", element("Nm", name)),
            element("CdtrAcct", element("Id", element("IBAN", iban))),
            element("RmtInf", element("Ustrd", text)),
        ))  # fmt: skip
    header = element(
        "GrpHdr",
        element("MsgId", ident),
        element("CreDtTm", f"{when.isoformat()}T08:00:00"),
        element("NbOfTxs", str(len(transfers))),
        element("CtrlSum", f"{total:.2f}"),
        element("InitgPty", element("Nm", company.name)),
    )
    return xml(element("Document", element("CstmrCdtTrfInitn", header, payments), xmlns=SEPA))


def salary_sepa(api: PublishedApi, owner: int, year: int, period: int, position: int
                ) -> tuple[str, bytes]:  # fmt: skip
    company = api.world.companies[owner]
    transfers = [
        (p.full_name, p.iban, _amounts(p)["net"], f"Salaris {period:02d}-{year}")
        for p in _staff(api, company)
    ]
    body = _sepa(company, f"SAL{year}{period:02d}{position:02d}", date(year, min(period, 12), 25),
                 transfers)  # fmt: skip
    return f"sepa-salaris-{company.number}-{year}-{period:02d}.xml", body


def _wage_tax_total(api: PublishedApi, company: Company) -> float:
    return round(sum(_amounts(p)["wageTax"] for p in _staff(api, company)), 2)


def wage_tax_sepa(api: PublishedApi, owner: int, year: int, period: int, position: int
                  ) -> tuple[str, bytes]:  # fmt: skip
    company = api.world.companies[owner]
    reference = f"{random.Random(f'{company.id}:{year}:{position}').randrange(10**15, 10**16)}"
    transfers = [("Belastingdienst", TAX_OFFICE_IBAN, _wage_tax_total(api, company), reference)]
    body = _sepa(company, f"LH{year}{period:02d}{position:02d}", date(year, min(period, 12), 28),
                 transfers)  # fmt: skip
    return f"sepa-loonheffing-{company.number}-{year}-{period:02d}.xml", body


def wage_tax_return(api: PublishedApi, owner: int, year: int, period: int, position: int
                    ) -> tuple[str, bytes]:  # fmt: skip
    company = api.world.companies[owner]
    staff = _staff(api, company)
    unit = element(
        "AdministratieveEenheid",
        element("LhNr", company.payroll_tax_number),
        element("NmIP", company.name),
        element("TijdvakAangifte",
                element("DatAanvTv", date(year, min(period, 12), 1).isoformat()),
                element("DatEindTv", date(year, min(period, 12), 28).isoformat())),
    )  # fmt: skip
    for person in staff:
        amounts = _amounts(person)
        unit.append(element(
            "InkomstenverhoudingInitieel",
            element("NumIV", str(person.number)),
            element("SofiNr", person.bsn),
            element("Voorl", person.initials.replace(".", "")),
            element("Voorv", person.prefix) if person.prefix else None,
            element("SignNm", person.last_name),
            element("LnLbPh", f"{amounts['taxable']:.2f}"),
            element("LhIngeh", f"{amounts['wageTax']:.2f}"),
        ))  # fmt: skip
    total = element(
        "CollectieveAangifte", element("TotLhIngeh", f"{_wage_tax_total(api, company):.2f}")
    )
    unit.append(total)
    root = element("Loonaangifte", unit,
                   xmlns="http://xml.belastingdienst.nl/schemas/Loonaangifte/2026/01")  # fmt: skip
    return f"loonaangifte-{company.number}-{year}-{period:02d}.xml", xml(root)


def journals(split: str) -> Render:
    def render(api: PublishedApi, owner: int, year: int, period: int, position: int
               ) -> tuple[str, bytes]:  # fmt: skip
        company = api.world.companies[owner]
        groups: dict[str, float] = {}
        for person in _staff(api, company):
            key = {"employee": f"{person.number} {person.full_name}", "total": "Totaal",
                   }.get(split, person.department)  # fmt: skip
            groups[key] = groups.get(key, 0.0) + person.monthly_salary
        root = element("Journals", split=split, year=str(year), period=str(period))
        for number, (key, amount) in enumerate(sorted(groups.items())):
            root.append(element(
                "Journal",
                element("Date", date(year, min(period, 12), 25).isoformat()),
                element("Account", "4000"),
                element("Description", f"Brutoloon {key}"),
                element("Debit", f"{amount:.2f}"),
                element("Credit", "0.00"),
                number=str(number + 1),
            ))  # fmt: skip
        return f"journaal-{split}-{company.number}-{year}-{period:02d}.xml", xml(root)

    return render


WAGE_CODES = ((10, "Salaris"), (20, "Vakantiegeld"), (110, "Reiskostenvergoeding"),
              (300, "Loonheffing"), (400, "Pensioenpremie werknemer"))  # fmt: skip


def wage_codes(api: PublishedApi, owner: int, year: int, period: int, position: int
               ) -> tuple[str, bytes]:  # fmt: skip
    company = api.world.companies[owner]
    staff = _staff(api, company)
    gross = sum(p.monthly_salary for p in staff)
    amounts = {10: gross, 20: gross * 0.08, 110: 23.0 * len(staff),
               300: sum(_amounts(p)["wageTax"] for p in staff), 400: gross * 0.055}  # fmt: skip
    root = element("WageCodes", company=company.name, year=str(year), period=str(period))
    for code, description in WAGE_CODES:
        root.append(element("WageCode", element("Description", description),
                            element("Amount", f"{amounts[code]:.2f}"), code=str(code)))  # fmt: skip
    return f"looncomponenten-{company.number}-{year}-{period:02d}.xml", xml(root)
