// Package sample holds the project's own small set of SAL interface
// definitions in the ts_xml format — ATCamera (with two topics defined as
// .avsc, nullable fields among them, one replacing an XML topic), ATDome,
// MTHexapod (indexed), MTM1M3 (with a 812-value force telemetry topic) and
// Test (indexed, one field of every IDL type) — so that the default stand runs with nothing but this
// repository. They were written for teststand; real interfaces are read
// from a ts_xml checkout instead (stand interfaces, --ts-xml, TS_XML_DIR).
package sample
