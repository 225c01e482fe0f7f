"""Seeded synthetic cases: realistic in shape, never about real people.

The demo, the tests and the benchmarks all use this generator. Its shares
follow published patterns so that statistics look plausible: about one
detected victim in three is a child (GLOTIP 2022); girls are mostly trafficked
for sexual exploitation and boys mostly for forced labour; smuggling cases
carry routes, fees and harm on the way; some victims are displaced by conflict
or climate hazards, some recruited online, and a few are charged with offences
their exploitation caused. Names and phone numbers are drawn from small pools
and random digits, so no record describes a real person.

The same seed always gives the same cases.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Origin countries with relative weights, and where their victims are taken.
ORIGINS: dict[str, float] = {
    "BGD": 10, "PAK": 9, "NPL": 8, "AFG": 8, "IRQ": 6, "KGZ": 5, "LAO": 5, "EGY": 5,
    "NGA": 5, "ETH": 4, "SYR": 4, "MMR": 4, "PHL": 3, "VNM": 3, "UKR": 3, "IDN": 2,
}
GULF = ["SAU", "ARE", "QAT", "KWT", "OMN", "BHR"]
EUROPE = ["ITA", "GRC", "DEU", "FRA", "GBR", "ESP"]
EAST_ASIA = ["THA", "MYS", "CHN", "JPN", "KOR"]
DESTINATIONS: dict[str, list[str]] = {
    "BGD": [*GULF, "IND", "MYS"], "PAK": [*GULF, "GRC", "ITA"], "NPL": [*GULF, "IND", "MYS"],
    "AFG": ["IRN", "TUR", "PAK", "DEU", "GRC"], "IRQ": ["TUR", "DEU", "GBR"], "KGZ": ["RUS", "KAZ", "TUR"],
    "LAO": ["THA", "CHN", "MYS"], "EGY": ["ITA", "LBY", "SAU", "JOR"], "NGA": ["ITA", "ESP", "LBY", "GHA"],
    "ETH": ["SAU", "YEM", "ARE", "KEN"], "SYR": ["TUR", "LBN", "DEU"], "MMR": ["THA", "CHN", "MYS"],
    "PHL": [*GULF, "JPN", "MYS"], "VNM": ["CHN", "GBR", "KOR", "JPN"], "UKR": ["POL", "DEU", "RUS"],
    "IDN": ["MYS", "SAU", "KOR"],
}
TRANSIT: dict[tuple[str, str], list[str]] = {
    ("AFG", "DEU"): ["IRN", "TUR", "GRC"], ("AFG", "GRC"): ["IRN", "TUR"], ("PAK", "GRC"): ["IRN", "TUR"],
    ("PAK", "ITA"): ["IRN", "TUR", "GRC"], ("EGY", "ITA"): ["LBY"], ("NGA", "ITA"): ["NER", "LBY"],
    ("NGA", "ESP"): ["MLI", "MAR"], ("ETH", "SAU"): ["DJI", "YEM"], ("SYR", "DEU"): ["TUR", "GRC", "SRB"],
    ("IRQ", "GBR"): ["TUR", "GRC", "FRA"], ("BGD", "ITA"): ["ARE", "LBY"], ("VNM", "GBR"): ["RUS", "FRA"],
}
SMUGGLING_FEE_USD: dict[str, tuple[float, float]] = {
    "LBY": (1500, 4000), "TUR": (2000, 6000), "GRC": (3000, 8000), "ITA": (2500, 7000), "DEU": (5000, 12000),
    "GBR": (6000, 15000), "YEM": (200, 800), "ESP": (1500, 5000), "IRN": (300, 1200), "THA": (200, 900),
}
CLIMATE_PRONE = {"BGD": ("Flood", "Sudden"), "PAK": ("Flood", "Sudden"), "NPL": ("Landslide", "Sudden"),
                 "ETH": ("Drought", "Slow"), "AFG": ("Drought", "Slow"), "PHL": ("Storm", "Sudden"),
                 "NGA": ("Flood", "Sudden"), "LAO": ("Flood", "Sudden"), "EGY": ("Desertification", "Slow")}
CONFLICT_AFFECTED = {"AFG", "IRQ", "SYR", "MMR", "UKR", "ETH", "NGA"}
GIVEN = {
    "south_asia": ["Rahim", "Ayesha", "Sumon", "Fatema", "Bishnu", "Sita", "Imran", "Nasreen", "Ramesh", "Puja"],
    "arab": ["Ahmed", "Mariam", "Omar", "Layla", "Yousef", "Huda", "Karim", "Salma", "Tariq", "Noor"],
    "central_asia": ["Aibek", "Aizada", "Bakyt", "Gulnara", "Nurlan", "Zarina", "Ermek", "Cholpon"],
    "southeast_asia": ["Somchai", "Bouasone", "Mai", "Thanh", "Aung", "Khin", "Maria", "Jose", "Siti", "Budi"],
    "africa": ["Chinedu", "Amina", "Tesfaye", "Hana", "Emeka", "Blessing", "Abebe", "Joy"],
    "europe": ["Olena", "Andriy", "Iryna", "Taras"],
}
FAMILY = {
    "south_asia": ["Hossain", "Begum", "Khan", "Shrestha", "Tamang", "Akter", "Rai", "Gurung"],
    "arab": ["Hassan", "Ali", "Ibrahim", "Mahmoud", "Saleh", "Abdullah", "Jasim"],
    "central_asia": ["Asanov", "Toktogulova", "Jumabaev", "Sadykova", "Usenov"],
    "southeast_asia": ["Phommachanh", "Nguyen", "Tran", "Win", "Santos", "Reyes", "Wijaya"],
    "africa": ["Okafor", "Bekele", "Adeyemi", "Tadesse", "Eze", "Girma"],
    "europe": ["Kovalenko", "Shevchenko", "Bondarenko"],
}
REGION = {"BGD": "south_asia", "PAK": "south_asia", "NPL": "south_asia", "AFG": "south_asia", "IRQ": "arab",
          "EGY": "arab", "SYR": "arab", "KGZ": "central_asia", "LAO": "southeast_asia", "MMR": "southeast_asia",
          "PHL": "southeast_asia", "VNM": "southeast_asia", "IDN": "southeast_asia", "NGA": "africa",
          "ETH": "africa", "UKR": "europe"}
DIAL = {"BGD": "880", "PAK": "92", "NPL": "977", "AFG": "93", "IRQ": "964", "KGZ": "996", "LAO": "856",
        "EGY": "20", "NGA": "234", "ETH": "251", "SYR": "963", "MMR": "95", "PHL": "63", "VNM": "84",
        "UKR": "380", "IDN": "62"}
AGENCIES = [("Police anti-trafficking unit", "LawEnforcement"), ("Shelter NGO", "NGO"),
            ("Labour inspectorate", "LabourInspectorate"), ("Immigration service", "ImmigrationService"),
            ("IOM office", "InternationalOrganisation"), ("Social welfare department", "LocalGovernmentOrganisation")]
PLATFORMS = ["Facebook", "WhatsApp", "Telegram", "TikTok", "Instagram", "Viber", "WeChat"]
CONTROL = ["PhysicalThreats", "ThreatsLawEnforcement", "ThreatensChildrenFamily", "DebtBondage", "FalsePromises",
           "PhysicalAbuse", "SexualAbuse", "TakesEarnings", "RestrictsFinancialAccess", "WithholdsNecessities",
           "PsychologicalAbuse", "ExcessiveWorkingHours", "WithholdsDocuments", "RestrictsMovement"]
LABOUR_SECTORS = ["A_AgricultureForestryAndFishing", "F_Construction", "T_ActivitiesOfHouseholdsAsEmployers",
                  "C_Manufacturing", "I_AccommodationAndFoodServiceActivities", "B_MiningAndQuarrying"]
#: Offences a victim is typically charged with, by form of exploitation (non-punishment cases).
VICTIM_OFFENCES = {"SexualExploitation": ["ProstitutionRelated", "IllegalEntry", "FalseDocuments"],
                   "ForcedCriminality": ["Theft", "DrugOffence", "FraudOnlineScam"],
                   "ForcedBegging": ["Begging"], "ForcedLabour": ["IllegalWork", "IllegalStay", "FalseDocuments"]}


@dataclass(frozen=True)
class SynthOptions:
    first_year: int = 2015
    last_year: int = 2024
    child_share: float = 0.33
    som_share: float = 0.25
    victim_charged_share: float = 0.05


class CaseGenerator:
    """Deterministic stream of synthetic case documents for a seed."""

    def __init__(self, seed: int, options: SynthOptions | None = None) -> None:
        self.rng = random.Random(seed)
        self.opt = options or SynthOptions()
        self._origins = list(ORIGINS)
        self._weights = list(ORIGINS.values())

    def cases(self, n: int) -> Iterator[dict[str, Any]]:
        for i in range(1, n + 1):
            yield self.case(i)

    # -- building blocks ------------------------------------------------------------

    def _date(self, year: int) -> dt.date:
        return dt.date(year, 1, 1) + dt.timedelta(days=self.rng.randrange(365))

    def _name(self, origin: str, sex: str) -> tuple[str, str]:
        region = REGION.get(origin, "south_asia")
        return self.rng.choice(GIVEN[region]), self.rng.choice(FAMILY[region])

    def _phone(self, origin: str) -> str:
        return f"+{DIAL.get(origin, '1')} {self.rng.randrange(300, 999)} {self.rng.randrange(1000000, 9999999)}"

    def _route(self, origin: str, destination: str, start: dt.date, irregular: bool) -> list[dict[str, Any]]:
        if origin == destination:
            return []
        stops = [origin, *TRANSIT.get((origin, destination), []), destination]
        legs, day = [], start
        for seq, (a, b) in enumerate(itertools.pairwise(stops), start=1):
            arrive = day + dt.timedelta(days=self.rng.randrange(1, 30))
            mode = "Sea" if (a, b) in {("LBY", "ITA"), ("TUR", "GRC"), ("MAR", "ESP"), ("DJI", "YEM")} else (
                "Air" if not irregular and seq == 1 else self.rng.choice(["Road", "Road", "Foot"]))
            legs.append({"seq": seq, "origin": a, "destination": b, "departed_on": day, "arrived_on": arrive,
                         "transport_mode": mode, "crossing": "Irregular" if irregular else "Regular"})
            day = arrive
        return legs

    def _identifications(self, jurisdiction: str, when: dt.date) -> list[dict[str, Any]]:
        chosen = self.rng.sample(AGENCIES, k=1 if self.rng.random() < 0.7 else 2)
        out = []
        for name, kind in chosen:
            item: dict[str, Any] = {"agency": f"{jurisdiction} {name}", "agency_type": kind,
                                    "identified_on": when}
            if self.rng.random() < 0.5:
                item.update(referred_to=f"{jurisdiction} Shelter NGO", referral_date=when,
                            referral_reason="AdditionalServicesRequired",
                            services=sorted(self.rng.sample(["Health", "Legal", "Shelter", "SocialCare"], 2)))
            out.append(item)
        return out

    def _person_base(self, pid: str, role: str, origin: str, sex: str, age: int | None, year: int,
                     opened: dt.date) -> dict[str, Any]:
        r = self.rng
        given, family = self._name(origin, sex)
        person: dict[str, Any] = {
            "person_id": pid, "role": role, "given_name": given, "family_name": family,
            "sex": sex, "gender": {"Female": "Feminine", "Male": "Masculine"}.get(sex, "NonSpecifiedUnknown"),
            "citizenship": [origin], "origin_country": origin, "phone": self._phone(origin),
        }
        basis = r.random()
        if age is None or basis < 0.08:
            person.update(age_basis="Unknown", has_identity_documents=False, age_disputed=True,
                          age_appearance="Adolescent" if (age or 30) < 18 else "Adult")
            if age is not None and age < 18:
                person.update(age_min=max(0, age - 2), age_max=age + 2)
        elif basis < 0.65:
            birth = opened - dt.timedelta(days=int(age * 365.25) + r.randrange(365))
            person.update(age=age, age_basis="Documented", birth_date=birth, has_identity_documents=True,
                          id_number=f"{origin[:2]}{r.randrange(10**7, 10**8)}")
        else:
            person.update(age=age, age_basis="Estimated", age_min=max(0, age - 2), age_max=age + 2,
                          has_identity_documents=r.random() < 0.3)
        return person

    # -- cases ----------------------------------------------------------------------

    def case(self, i: int) -> dict[str, Any]:
        r, opt = self.rng, self.opt
        year = r.randint(opt.first_year, opt.last_year)
        opened = self._date(year)
        origin = r.choices(self._origins, self._weights)[0]
        domestic = r.random() < 0.25
        destination = origin if domestic else r.choice(DESTINATIONS[origin])
        is_som = not domestic and r.random() < opt.som_share
        case_type = "SOM" if is_som else "TIP"
        jurisdiction = destination
        org_name, org_type = r.choice(AGENCIES[:3])
        case: dict[str, Any] = {
            "case_id": f"SYN-{i:07d}", "case_type": case_type,
            "status": r.choices(["Active", "FollowUp", "Closed", "ClosedReferred"], [3, 2, 4, 1])[0],
            "reporting_org": f"{jurisdiction} {org_name}", "reporting_org_type": org_type,
            "jurisdiction": jurisdiction, "year": year, "opened_on": opened, "source": "tipsom synth",
        }
        if case["status"].startswith("Closed"):
            case["closed_on"] = opened + dt.timedelta(days=r.randrange(30, 400))
        persons = self._smuggling(case, origin, destination, opened) if is_som else \
            self._trafficking(case, origin, destination, opened, domestic)
        if r.random() < (0.25 if is_som else 0.2):
            suspect = self._person_base(f"P{len(persons) + 1}", "Suspect", r.choice([origin, destination]),
                                        r.choices(["Male", "Female"], [7, 3])[0], r.randint(22, 60), year, opened)
            offence = "SmugglingOfMigrants" if is_som else "TraffickingInPersons"
            stage, outcome = r.choices([("Investigation", "Pending"), ("Prosecution", "Pending"),
                                        ("Trial", "Convicted"), ("Trial", "Acquitted")], [4, 3, 2, 1])[0]
            suspect["charges"] = [{"offence": offence, "charged_on": opened, "stage": stage, "outcome": outcome}]
            persons.append(suspect)
        case["persons"] = persons
        return case

    def _trafficking(self, case: dict[str, Any], origin: str, destination: str, opened: dt.date,
                     domestic: bool) -> list[dict[str, Any]]:
        r, opt = self.rng, self.opt
        persons = []
        for k in range(1 if r.random() < 0.9 else r.randint(2, 3)):
            child = r.random() < opt.child_share
            sex = r.choices(["Female", "Male"], [6, 4] if not child else [5, 5])[0]
            age = r.randint(6, 17) if child else r.randint(18, 55)
            role = "Victim" if r.random() < 0.8 else "PresumedVictim"
            p = self._person_base(f"P{k + 1}", role, origin, sex, age, case["year"], opened)
            p["trafficking_status"] = ("ActualVictimOfTrafficking" if role == "Victim"
                                       else "PossibleVictimOfTrafficking")
            p["exploitation_forms"] = [self._form(sex, child)]
            form = p["exploitation_forms"][0]
            if form == "SexualExploitation":
                p["sex_exploitation_types"] = [r.choice(["Prostitution", "Prostitution", "Pornography",
                                                         "RemoteInteractiveServices"])]
            elif form in ("ForcedLabour", "ChildLabour", "Servitude"):
                p["exploitation_sector"] = r.choice(LABOUR_SECTORS)
            recruited = opened - dt.timedelta(days=r.randrange(30, 700))
            p.update(recruitment_date=recruited, recruitment_country=origin, exploitation_country=destination,
                     exploitation_start=recruited + dt.timedelta(days=r.randrange(5, 60)),
                     control_methods=sorted(r.sample(CONTROL, r.randint(1, 4))),
                     deceived=r.random() < 0.6,
                     recruiter_relationship=r.choice(["Familial", "Friend", "Acquainted", "Unaquainted",
                                                      "IntimatePartner"]))
            if child:
                p["age_at_recruitment"] = max(0, age - (opened - recruited).days // 365)
                p["unaccompanied"] = not domestic and r.random() < 0.4
                p["parental_involvement"] = r.random() < 0.15
                p["guardian_appointed"] = r.random() < 0.5
            if r.random() < 0.25:
                platform = r.choice(PLATFORMS)
                p.update(recruited_online=True, recruitment_methods=["ThroughOnlineSocialNetworks"],
                         recruitment_platforms=[platform], controlled_online=r.random() < 0.3)
                if form == "SexualExploitation" and r.random() < 0.3:
                    p.update(exploited_online=True, livestreaming=True, online_platforms=[platform])
            else:
                p["recruitment_methods"] = [r.choice(["ThroughFamilyOrFamilyEvents", "ThroughFriendsOrSocialEvents",
                                                      "RecruitmentAgency", "AtWork"])]
            self._context(p, origin)
            p["route_legs"] = self._route(origin, destination, recruited, irregular=r.random() < 0.3)
            p["identifications"] = self._identifications(case["jurisdiction"], opened)
            if r.random() < opt.victim_charged_share:
                offence = r.choice(VICTIM_OFFENCES.get(form, ["IllegalEntry"]))
                p["charges"] = [{"offence": offence, "charged_on": opened, "stage": r.choice(
                    ["Arrest", "Prosecution", "Trial"]), "outcome": r.choice(["Pending", "Convicted",
                                                                             "AdministrativePenalty"])}]
            self._consent(p, opened)
            persons.append(p)
        return persons

    def _form(self, sex: str, child: bool) -> str:
        r = self.rng
        if sex == "Female":
            forms, weights = ["SexualExploitation", "ForcedLabour", "ForcedMarriage", "ForcedCriminality",
                              "ForcedBegging"], [64, 24, 6, 3, 3]
        else:
            forms, weights = ["ForcedLabour", "ForcedCriminality", "SexualExploitation", "ForcedBegging",
                              "ForcedMilitaryByNonStateActors"], [62, 14, 8, 8, 3 if child else 1]
        return r.choices(forms, weights)[0]

    def _context(self, p: dict[str, Any], origin: str) -> None:
        r = self.rng
        if origin in CLIMATE_PRONE and r.random() < 0.2:
            hazard, onset = CLIMATE_PRONE[origin]
            p.update(climate_hazard=hazard, climate_onset=onset, livelihood_loss=r.random() < 0.7,
                     climate_event_year=p.get("recruitment_date", dt.date(2020, 1, 1)).year - r.randint(0, 1))
            if r.random() < 0.5:
                p.update(displacement_status="InternallyDisplaced", displacement_cause="Disaster")
        if origin in CONFLICT_AFFECTED and r.random() < 0.3:
            p.update(conflict_area=True, displacement_status=r.choice(["Refugee", "InternallyDisplaced"]),
                     displacement_cause="Conflict")
            if r.random() < 0.1:
                p["armed_group_recruitment"] = True
            if p.get("sex") == "Female" and r.random() < 0.1:
                p["conflict_sexual_violence"] = True

    def _consent(self, p: dict[str, Any], opened: dt.date) -> None:
        r = self.rng
        if r.random() < 0.85:
            p.update(consent_given=True, consent_date=opened,
                     consent_purposes=sorted(r.sample(["Assistance", "Referral", "Research", "Prosecution"], 2)),
                     retention_until=opened + dt.timedelta(days=3650))
        else:
            p["consent_given"] = False

    def _smuggling(self, case: dict[str, Any], origin: str, destination: str,
                   opened: dt.date) -> list[dict[str, Any]]:
        r = self.rng
        persons = []
        lo, hi = SMUGGLING_FEE_USD.get(destination, (500, 3000))
        exploited = r.random() < 0.08
        if exploited:
            case["case_type"] = "Mixed"
        harmed = r.random() < 0.06
        if harmed and r.random() < 0.4:
            case["deaths_on_route"] = r.randint(1, 12)
        for k in range(r.choices([1, 2, 3], [6, 3, 1])[0]):
            child = r.random() < 0.12
            sex = r.choices(["Male", "Female"], [8, 2])[0]
            age = r.randint(13, 17) if child else r.randint(18, 45)
            p = self._person_base(f"P{k + 1}", "SmuggledMigrant", origin, sex, age, case["year"], opened)
            departed = opened - dt.timedelta(days=r.randrange(10, 200))
            p["route_legs"] = self._route(origin, destination, departed, irregular=True)
            p.update(smuggling_fee=round(r.uniform(lo, hi), -1), fee_currency="USD",
                     fee_payment_method=r.choices(["Cash", "Hawala", "MobileMoney", "Bank", "Crypto"],
                                                  [4, 4, 2, 1, 1])[0])
            if child:
                p["unaccompanied"] = r.random() < 0.6
            if harmed:
                p["harm_on_route"] = sorted(r.sample(["Injury", "Abandonment", "InhumanTreatment",
                                                      "Extortion"], r.randint(1, 2)))
            if exploited:
                p.update(control_methods=["DebtBondage", "WithholdsDocuments"], exploitation_forms=["ForcedLabour"],
                         exploitation_country=destination, role="PresumedVictim",
                         trafficking_status="PossibleVictimOfTrafficking")
            self._context(p, origin)
            p["identifications"] = self._identifications(case["jurisdiction"], opened)
            if r.random() < 0.06:
                p["charges"] = [{"offence": r.choice(["IllegalEntry", "IllegalStay", "FalseDocuments"]),
                                 "charged_on": opened, "stage": r.choice(["Arrest", "Prosecution"]),
                                 "outcome": r.choice(["Pending", "Convicted", "Deported"])}]
            self._consent(p, opened)
            persons.append(p)
        return persons
