/**
 * The operations GraphiQL opens with, one per kind of user; pick one with the ▶ menu.
 * Set headers in GraphiQL's Headers tab: none for the storefront (the demo tenant answers on
 * localhost), `{"Authorization": "Bearer <pos key>"}` for the terminal, a partner key for partners.
 */
export const exampleQuery = `# Storefront (no credential; or the header x-tenant-id: demo): catalog, pricing and
# inventory in one response. Store ids come from \`tenant { stores { id } }\`.
query StorefrontRead {
  tenant { slug name stores { id code name kind } }
  products(first: 5) {
    edges {
      node {
        title
        brand
        category { name }
        variants { sku title stockLevels { store { code } available } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}

# POS terminal (header Authorization: Bearer <pos key>; variables {"store": "<store id>"}):
# the current stock of the store first, then every change, with title and price.
subscription PosLiveStock($store: ID!) {
  stockChanged(storeId: $store) {
    sku available onHand version
    variant { title price(storeId: $store) { amount currencyCode } }
  }
}

# Partner (header Authorization: Bearer <partner key>): the partner contract, every element
# described; GET /schema.graphql serves the same SDL.
query PartnerIntrospection {
  __schema {
    queryType { name }
    types { name kind description }
  }
}
`;
