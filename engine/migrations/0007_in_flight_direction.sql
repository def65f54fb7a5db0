-- A remediation in flight keeps the direction it was asked for: an engine that stopped mid-way gives the claim
-- back at its next start and audits it as the remediation that was asked (the action and who asked are on the
-- claimed discrepancy).
ALTER TABLE remediations_in_flight ADD COLUMN direction TEXT;
