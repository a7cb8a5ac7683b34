// The store's business rules, written once as SQL operations both adapters run, one module per aggregate.
export * from "./members.js";
export * from "./deliveries.js";
export * from "./presence.js";
