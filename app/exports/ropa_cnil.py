"""The record in the CNIL's model ("registre des activités de traitement"): an organisation sheet, then one form
("fiche de registre") per processing activity, with the CNIL's French labels (requirements §2.3).

The labels are the CNIL's; the values are the same cells as every other format (from the policy, in the language
the policy is written in), so a CNIL form and the ICO sheet never disagree. The CNIL recommends a separate
register for processing carried out as a processor: when the processor record rides along, it gets its own
sheets ("Sous-traitant N"). Written as ODS, the CNIL's own spreadsheet format.
"""

from __future__ import annotations

from app.audit.trail import iso_utc
from app.exports.ropa import Activity, Ropa
from app.exports.ropa_writers import Sheet

ORGANISATION_SHEET = "Responsable du traitement"
PROCESSOR_ORGANISATION_SHEET = "Sous-traitant"
_ROLES_FR = {
    "Controller": "Responsable du traitement",
    "Data Protection Officer": "Délégué à la protection des données (DPO)",
    "Representative": "Représentant",
    "Joint controller": "Responsable conjoint",
    "Processor": "Sous-traitant",
    "Processor's Data Protection Officer": "Délégué à la protection des données du sous-traitant",
    "Processor's representative": "Représentant du sous-traitant",
}
_CONTACT_FR = ("Nom", "Adresse", "Courriel", "Téléphone")

# (label, cell key or facet key). A label with no key is a section heading.
CONTROLLER_FORM: tuple[tuple[str, str], ...] = (
    ("Nom / sigle de l'activité de traitement", "activity"),
    ("Nom et coordonnées du responsable conjoint du traitement", "joint_controller"),
    ("Nom du logiciel ou de l'application", "software"),
    ("Objectifs poursuivis", ""),
    ("Finalité(s) du traitement", "purpose"),
    ("Base légale (article 6 du RGPD)", "lawful_basis"),
    ("Catégories de personnes concernées", "individuals"),
    ("Catégories de données collectées", "personal_data"),
    ("Données sensibles (article 9 du RGPD) : oui / non, lesquelles, et la condition", "art9"),
    ("Fondement en droit national (article 9(2)(b), (g) à (j))", "national_law"),
    ("Durées de conservation des catégories de données", "retention"),
    ("Catégories de destinataires des données", ""),
    ("Destinataires internes", "recipients_internal"),
    ("Organismes externes", "recipients_external"),
    ("Sous-traitants", "recipients_processors"),
    ("Contrat de sous-traitance (article 28)", "processor_contract"),
    ("Transferts des données hors UE", ""),
    ("Pays tiers ou organisations internationales destinataires", "third_countries"),
    ("Garanties (article 46 ou 49 du RGPD)", "transfer_safeguards"),
    ("Mesures de sécurité", ""),
    ("Contrôle d'accès des utilisateurs", "security_access"),
    ("Mesures de traçabilité", "security_traceability"),
    ("Mesures de protection des logiciels", "security_software"),
    ("Sauvegarde des données", "security_backup"),
    ("Chiffrement des données", "security_encryption"),
    ("Contrôle des sous-traitants", "security_processors"),
    ("Autres mesures", "security_other"),
    ("Compléments", ""),
    ("Source des données", "source"),
    ("Prise de décision automatisée, y compris le profilage (article 22)", "automated"),
    ("Analyse d'impact (AIPD) requise ?", "dpia_required"),
    ("Avancement de l'AIPD", "dpia_progress"),
    ("Lien vers l'AIPD", "dpia_link"),
    ("Violation de données personnelles survenue ?", "breach"),
    ("Lien vers le registre des violations", "breach_record"),
    ("Conservation et effacement conformes à la politique ?", "adherence"),
    ("Raisons de la non-conformité", "adherence_reasons"),
    ("Version de la fiche (politique, empreinte)", "record"),
)

PROCESSOR_FORM: tuple[tuple[str, str], ...] = (
    ("Fiche", "activity"),
    ("Nom et coordonnées du responsable de traitement pour le compte duquel le traitement est effectué", "controller"),
    ("Représentant du responsable de traitement", "controller_representative"),
    ("Délégué à la protection des données du responsable de traitement", "controller_dpo"),
    ("Catégories de traitements effectués pour le compte du responsable de traitement", "processing"),
    ("Transferts des données hors UE", "third_countries"),
    ("Garanties (article 46 ou 49 du RGPD)", "transfer_safeguards"),
    ("Mesures de sécurité", "security"),
    ("Version de la fiche (politique, empreinte)", "record"),
)


def _value(ropa: Ropa, activity: Activity, key: str) -> str:
    if key in activity.facets:
        return activity.facets[key]
    return ropa.cell(activity, key)


def _organisation(ropa: Ropa, name: str, heading: str, sheet_prefix: str) -> Sheet:
    rows: list[list[str]] = [[heading], [f"Politique {ropa.policy_stamp} ; générée le {iso_utc(ropa.generated_at)} ; "
                                         f"empreinte SHA-256 {ropa.content_hash}"], [""]]  # fmt: skip
    bold = {1}
    for contact in ropa.contacts:
        bold.add(len(rows) + 1)
        rows.append([_ROLES_FR.get(contact.role, contact.role)])
        rows += [[label, value] for label, value in zip(_CONTACT_FR, contact.cells(), strict=True)]
        rows.append([""])
    bold.add(len(rows) + 1)
    rows.append(["Activités de traitement", "Fiche"])
    for number, activity in enumerate(ropa.activities, start=1):
        rows.append([ropa.cell(activity, "activity"), f"{sheet_prefix} {number}"])
    return Sheet(name, rows, bold, None, [60, 110])


def _form(ropa: Ropa, activity: Activity, name: str, form: tuple[tuple[str, str], ...]) -> Sheet:
    rows: list[list[str]] = []
    bold: set[int] = set()
    for label, key in form:
        if not key:
            bold.add(len(rows) + 1)
            rows.append([label])
        else:
            rows.append([label, _value(ropa, activity, key)])
    rows.append(["Date de création de la fiche", iso_utc(ropa.generated_at)])
    rows.append(["Date de dernière mise à jour (politique en vigueur depuis)", iso_utc(ropa.policy_applied_at)])
    return Sheet(name, rows, bold, None, [60, 110])


def cnil_sheets(ropa: Ropa, processor: Ropa | None = None) -> list[Sheet]:
    """The controller register (or the processor's, when ``ropa`` is one), then the processor's when given."""
    sheets: list[Sheet] = []
    for record in (ropa, processor):
        if record is None:
            continue
        if record.record == "controller":
            title = "Registre des activités de traitement (article 30.1 du RGPD)"
            sheets.append(_organisation(record, ORGANISATION_SHEET, title, "Fiche"))
            sheets += [
                _form(record, activity, f"Fiche {number}", CONTROLLER_FORM)
                for number, activity in enumerate(record.activities, start=1)
            ]
        else:
            title = "Registre des activités de traitement effectuées en tant que sous-traitant (article 30.2 du RGPD)"
            sheets.append(_organisation(record, PROCESSOR_ORGANISATION_SHEET, title, "Sous-traitant"))
            sheets += [
                _form(record, activity, f"Sous-traitant {number}", PROCESSOR_FORM)
                for number, activity in enumerate(record.activities, start=1)
            ]
    return sheets
