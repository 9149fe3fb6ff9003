"""The realistic policy of issue 12: a German controller with an external DPO, three purposes, a US and an Indian
processor under SCCs, a German external controller (payroll bureau) with no SCIM target, one Art. 9 attribute;
and the same organisation acting as processor for its holding company, with its own (US) hosting provider."""

from __future__ import annotations

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

REALISTIC = f"""format = 1
title = "Beispiel GmbH workforce directory"
outside_schema = "reject"
organisational_measures = [
  "Access to Custos limited to two named IT administrators (Berechtigungskonzept v3)",
  "Administrators trained in data protection annually",
]

[controller]
name = "Beispiel GmbH"
address = "Musterstraße 1, 10115 Berlin, Germany"
email = "datenschutz@beispiel.example"
telephone = "+49 30 1234567"

[dpo]
name = "Dr. Erika Muster, DSB Extern GmbH (external DPO)"
address = "Kantstraße 5, 10623 Berlin, Germany"
email = "dsb@dsb-extern.example"

[[purposes]]
id = "access-management"
name = "Workforce access management"
description = "Accounts people need in the organisation's applications."
business_function = "IT"
lawful_basis = "legitimate_interests"
legitimate_interest = "People who work for the organisation need accounts; removed when the work ends."
lia_link = "https://intranet.beispiel.example/lia/access"
data_subjects = ["Employees", "Contractors"]
source = "Microsoft Entra ID (SCIM 2.0 push)"
dpia = {{ required = false, progress = "Screening done 2026-01: no high risk", link = "" }}
deactivated_account_retention = {{ period = "P30D", justification = "Reversal of a mistaken deactivation" }}
retention_policy_link = "https://intranet.beispiel.example/loeschkonzept"

[[purposes]]
id = "internal-directory"
name = "Internal directory"
description = "Colleagues find each other's work contact details."
business_function = "Operations"
lawful_basis = "legitimate_interests"
legitimate_interest = "Colleagues need to reach each other; work contact details only."
lia_link = "https://intranet.beispiel.example/lia/directory"
data_subjects = ["Employees", "Contractors"]
dpia = {{ required = false, progress = "Screening done 2026-01: no high risk", link = "" }}
deactivated_account_retention = {{ period = "P14D", justification = "Directory entry removed soon after leaving" }}

[[purposes]]
id = "payroll"
name = "Payroll"
description = "Pay salaries, including the additional leave of severely disabled employees."
business_function = "HR"
lawful_basis = "contract"
data_subjects = ["Employees"]
dpia = {{ required = true, progress = "Completed 2026-02-10", link = "https://intranet.beispiel.example/dsfa/payroll" }}
national_law_basis = "§ 26(3) BDSG; § 208 SGB IX"
deactivated_account_retention = {{ period = "P3M", justification = "Final payroll run and corrections" }}

[[categories]]
id = "identifiers"
name = "Account identifiers"
retention = {{ period = "account", justification = "Needed for as long as the account exists" }}

[[categories]]
id = "names"
name = "Names"
retention = {{ period = "account", justification = "Needed for as long as the account exists" }}

[[categories]]
id = "work-contact"
name = "Work contact details"
retention = {{ period = "account", justification = "Needed for as long as the account exists" }}

[[categories]]
id = "employment"
name = "Employment details"
retention = {{ period = "P7D", justification = "Handover after leaving" }}

[[categories]]
id = "health"
name = "Disability status (health data)"
description = "Entitlement to additional leave for severely disabled employees"
retention = {{ period = "P1D", justification = "No longer needed once the person has left" }}

[[attributes]]
path = "userName"
category = "identifiers"
purposes = ["access-management", "internal-directory", "payroll"]

[[attributes]]
path = "externalId"
category = "identifiers"
purposes = ["access-management"]

[[attributes]]
path = "active"
category = "identifiers"
purposes = ["access-management"]

[[attributes]]
path = "displayName"
category = "names"
purposes = ["access-management", "internal-directory", "payroll"]

[[attributes]]
path = "emails.value"
category = "work-contact"
purposes = ["access-management", "internal-directory"]

[[attributes]]
path = "{ENTERPRISE}:employeeNumber"
category = "employment"
purposes = ["payroll"]

[[attributes]]
path = "entitlements"
category = "health"
purposes = ["payroll"]
special_category = true
art9_condition = "employment"

[[recipients]]
id = "hr-cloud"
name = "HR Cloud Inc."
kind = "processor"
country = "US"
transfer_safeguard = "EU Standard Contractual Clauses 2021/914, module 2"
contract_link = "https://contracts.beispiel.example/hr-cloud-dpa.pdf"
purposes = ["access-management"]
attributes = ["userName", "displayName", "emails.value"]

[[recipients]]
id = "ticketing"
name = "Ticketing Services Pvt Ltd"
kind = "processor"
country = "IN"
transfer_safeguard = "EU Standard Contractual Clauses 2021/914, module 2"
contract_link = "https://contracts.beispiel.example/ticketing-dpa.pdf"
purposes = ["access-management", "internal-directory"]
attributes = ["userName", "emails.value"]

[[recipients]]
id = "payroll-bureau"
name = "Lohnbüro Schmidt Steuerberatung"
kind = "external_controller"
country = "DE"
purposes = ["payroll"]
attributes = ["userName", "displayName", "{ENTERPRISE}:employeeNumber", "entitlements"]
scope = {{ filter = '{ENTERPRISE}:employeeNumber pr' }}

[processor_contact]
name = "Beispiel GmbH (as processor)"
address = "Musterstraße 1, 10115 Berlin, Germany"
email = "datenschutz@beispiel.example"

[processor_dpo]
name = "Dr. Erika Muster, DSB Extern GmbH"
address = "Kantstraße 5, 10623 Berlin, Germany"
email = "dsb@dsb-extern.example"

[[processor.recipients]]
id = "hosting"
name = "Backup Hosting LLC"
country = "US"
transfer_safeguard = "EU-US Data Privacy Framework (certified)"
contract_link = "https://contracts.beispiel.example/hosting.pdf"

[[processor.controllers]]
name = "Beispiel Holding AG"
address = "Hauptplatz 2, 1010 Wien, Austria"
email = "privacy@holding.example"
processing = "Directory provisioning of the holding's staff to group applications"
recipients = ["hosting"]
dpo = {{ name = "Mag. Max Beispiel", email = "dpo@holding.example" }}
representative = {{ name = "Holding Representative Ltd", email = "rep@holding.example" }}

[retention_job]
enabled = true

[own_processing]
audit_trail = {{ period = "P3Y", justification = "§ 195 BGB limitation period" }}
breach_register = {{ period = "P5Y", justification = "Art. 33(5) documentation for the authority" }}
erasure_ledger = {{ period = "indefinite", justification = "Must outlive every backup of the vault" }}
dsr_register = {{ period = "P3Y", justification = "§ 195 BGB limitation period" }}
"""
