"""The award stage (定标, issue 16): from the signed evaluation report to a signed contract and the
tender's electronic archive. This round holds its pure core: the versioned periods (`rules`), the
state machine (`states`), the choice of the winner (`succession`) and the contract's checks
(`contract_rules`); the tables, services and pages that call them come later (`AGENTS.md`).
The tender's electronic archive exists: `archive` (format, builder) and its offline verifier
``python -m bidding.award.verify ARCHIVE.zip`` (`verify`).
"""
