Feature: Adding a CSC: restarting the producer loses samples, adding it to the running producer none
  The summit's documented way of adding a CSC to a SAL Kafka producer is to
  stop the production producer and start it again with the CSC list
  extended. While it is down nothing reads its DDS domain, and SAL
  telemetry is volatile: what the CSCs write meanwhile is gone. Adding the
  CSC through the running producer's admin API loses nothing. Both are
  measured here on the same traffic; the report lists the seqNums lost.

  Background:
    Given the stand is up

  Scenario: Restarting the production producer with the CSC list extended loses exactly what was written while it was down
    When ATDome publishes "position" at 20 Hz for 4 s on domain 0 in the background
    And 1 s pass
    And the producer "summit-salkafka" is stopped
    And 1 s pass
    And the producer "summit-salkafka" is restarted with CSC "MTHexapod:2" added
    And MTHexapod:2 publishes "actuators" at 10 Hz for 1 s on domain 0
    Then exactly the samples of ATDome "position" written while the producer "summit-salkafka" was down are missing from database "efd" at "usdf" within 20 s
    And every sample of MTHexapod:2 "actuators" is in database "efd" at "usdf" exactly once within 20 s

  Scenario: Adding the CSC to the running producer loses none
    When ATDome publishes "position" at 20 Hz for 4 s on domain 0 in the background
    And 1 s pass
    And CSC "MTHexapod:3" is added to producer "summit-salkafka"
    And MTHexapod:3 publishes "actuators" at 10 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
    And every sample of MTHexapod:3 "actuators" is in database "efd" at "usdf" exactly once within 20 s
