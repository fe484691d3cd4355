// The one browser module the platform's pages import for PKI work: PKI.js's classes and asn1js.
export * from "pkijs";
export * as asn1js from "asn1js";
