/**
 * A tenant's locale (BCP 47, `Tenant.locale`) and the PostgreSQL text search configuration whose
 * stemmer the catalog's search adds for it (decision 0018 "Since": language-aware stemming).
 * Only configurations both PostgreSQL 15 and the embedded PGlite ship are named; a locale of any
 * other language is kept and searched without stemming (accents, prefixes, typos and synonyms
 * still apply).
 */
const STEMMERS: Readonly<Record<string, string>> = {
  ar: 'arabic', hy: 'armenian', eu: 'basque', ca: 'catalan', da: 'danish', nl: 'dutch', en: 'english',
  fi: 'finnish', fr: 'french', de: 'german', el: 'greek', hi: 'hindi', hu: 'hungarian', id: 'indonesian',
  ga: 'irish', it: 'italian', lt: 'lithuanian', ne: 'nepali', no: 'norwegian', nb: 'norwegian', nn: 'norwegian',
  pt: 'portuguese', ro: 'romanian', ru: 'russian', sr: 'serbian', es: 'spanish', sv: 'swedish', ta: 'tamil',
  tr: 'turkish', yi: 'yiddish',
};

/** Most characters of a locale (docs/limits.md: `Mutation.setTenantLocale(locale:)`). */
export const MAX_LOCALE_LENGTH = 35;

/** The locale in its canonical form (`en-GB`), or null when it is not a well-formed BCP 47 tag. */
export function canonicalLocale(locale: string): string | null {
  if (locale.length === 0 || locale.length > MAX_LOCALE_LENGTH) return null;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? null;
  } catch {
    return null;
  }
}

/** The text search configuration that stems the locale's language (`english`), or null for none. */
export function stemmerOf(locale: string | null | undefined): string | null {
  if (!locale) return null;
  return STEMMERS[locale.split('-')[0]!.toLowerCase()] ?? null;
}
