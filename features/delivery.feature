Feature: Delivery from the summit to the USDF EFD
  SAL samples written on the summit's DDS domain reach the EFD at the USDF
  through the producer, summit Kafka, replication and the sink, each exactly
  once, renamed by the replication policy, within a latency bound.

  Background:
    Given the stand is up

  Scenario: ATDome position reaches the USDF EFD exactly once
    When ATDome publishes "position" at 10 Hz for 5 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
    And topic "summit.lsst.sal.ATDome.position" exists at "usdf"
    And topic "lsst.sal.ATDome.position" does not exist at "usdf"
    And end-to-end latency p99 of ATDome "position" is below 2 s

  Scenario: Traffic on a domain no producer listens to is not delivered
    When ATDome publishes "position" at 10 Hz for 2 s on domain 12
    Then ATDome "position" is reported as "not delivered" in database "efd" at "usdf" after 3 s
