import { badInput } from '../errors.js';

/** A postal address as `AddressInput` (orders' cart, tenant's customer) sends it. */
export interface Address {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postalCode: string;
  countryCode: string;
  phone?: string | null;
}

/**
 * The address trimmed, empty optional parts as null; BAD_USER_INPUT naming the field when a
 * required part is empty or the country is not an ISO 3166-1 alpha-2 code. One check for the
 * cart's shipping address and a customer's saved addresses, so one is never kept that the other refuses.
 */
export function checkAddress(address: Address): Address {
  for (const field of ['name', 'line1', 'city', 'postalCode', 'countryCode'] as const) {
    if (!address[field]?.trim()) throw badInput(`address.${field} must not be empty`, `address.${field}`);
  }
  if (!/^[A-Z]{2}$/.test(address.countryCode.trim())) throw badInput('address.countryCode is an ISO 3166-1 alpha-2 code, e.g. DE', 'address.countryCode');
  return {
    name: address.name.trim(), line1: address.line1.trim(), line2: address.line2?.trim() || null, city: address.city.trim(),
    postalCode: address.postalCode.trim(), countryCode: address.countryCode.trim(), phone: address.phone?.trim() || null,
  };
}
