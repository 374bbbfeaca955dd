-- 0011: phone numbers, the fourth identity type (identity_type 'phone_number', X's `phone_number`
-- key). Connections gain their Forward Phone Numbers toggle, off for every existing connection:
-- turning it on would start sending a new kind of personal data nobody asked to send.
ALTER TABLE connections ADD COLUMN forward_phone_numbers INTEGER NOT NULL DEFAULT 0;
