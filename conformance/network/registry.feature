@stand:summit-loaded @network-faults
Feature: The summit's registry unreachable while a CSC starts
  A CSC is added to the summit's producer while the producer cannot reach
  the summit's schema registry: the producer subscribes the CSC's topics
  at once and waits for the registry to register their schemas, their
  samples queued meanwhile. The CSCs it already serves carry on. When the
  registry is reachable again, every sample of the new CSC is forwarded.

  Background:
    Given the stand is up

  Scenario: The summit registry partitioned for 30 s while a new CSC starts: the producer waits and loses nothing
    When ATDome publishes "position" at 10 Hz for 40 s on domain 0 in the background
    And the registry at "summit" is partitioned for 30 s in the background
    And CSC "Test:2" is added to producer "summit-salkafka"
    And Test:2 publishes "scalars" at 2 Hz for 20 s on domain 0
    Then every sample published in this scenario is in database "efd" at "usdf" exactly once within 90 s
    And the catch-up after the registry at "summit" healed took at most 30 s
