/** The operation GraphiQL opens with: catalog, pricing and inventory in one response. */
export const exampleQuery = `# The demo tenant answers on http://localhost:4000 (or send the header x-tenant-id: demo).
# Fields come from tenant, catalog, pricing and inventory in one response.
query Storefront {
  tenant { slug name stores { id code name kind } }
  products(first: 5) {
    edges {
      node {
        title
        brand
        category { name }
        variants {
          sku
          title
          stockLevels { store { code } available }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}

# Then ask for one store's price and stock, e.g. with variables { "store": "<a store id from above>" }:
# query ($store: ID!) { products(first: 5) { edges { node { title variants {
#   sku price(storeId: $store) { amount currencyCode } stock(storeId: $store) { available } } } } } }
`;
