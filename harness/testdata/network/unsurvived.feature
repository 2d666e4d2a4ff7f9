@network-faults
Feature: Faults a stand does not survive fail their scenarios

  Background:
    Given the stand is up

  Scenario: A registry outage outlasts the producer's patience
    When the registry at "summit" is partitioned for 10 s in the background
    And CSC "Test:2" is added to producer "summit-salkafka"
    And Test:2 publishes "scalars" at 50 Hz for 5 s on domain 0
    Then every sample published in this scenario is in database "efd" at "usdf" exactly once within 12 s

  Scenario: A catch-up bound the stand does not meet
    When ATDome publishes "position" at 10 Hz for 6 s on domain 0 in the background
    And 1 s pass
    And the link from "summit" to "usdf" is partitioned for 3 s
    Then every sample published in this scenario is in database "efd" at "usdf" at least once within 40 s
    And the catch-up after the link from "summit" to "usdf" healed took at most 0.001 s
