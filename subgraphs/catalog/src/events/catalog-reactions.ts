import type { Reaction } from '../../../../lib/events/on.js';
import { pairReactions, saleReactions } from '../recommendations/recommendation-consumers.js';
import { searchOffers } from '../services/search.service.js';
import { searchLanguage } from './search-language.js';

/**
 * Every reaction of the catalog's consumer to other services' events: search offers (prices and
 * stock), search's language (the tenant's locale) and the recommendation read models. Several may follow one event type; they are combined.
 */
export const catalogReactions: Reaction[] = [...searchOffers, ...searchLanguage, ...pairReactions, ...saleReactions];
