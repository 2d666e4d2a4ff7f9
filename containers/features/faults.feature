@containers
Feature: Container faults at the USDF
  On the containers backend the USDF's Kafka can be frozen (docker pause)
  or stopped and started again as a pod is: the replicator and the sink
  wait for it and, once it is back, every sample reaches the EFD exactly
  once.

  Scenario: The USDF Kafka frozen mid-stream loses nothing
    When ATDome publishes "position" at 20 Hz for 8 s on domain 0 in the background
    And 2 s pass
    And the kafka at "usdf" is paused
    And 4 s pass
    And the kafka at "usdf" is unpaused
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 90 s

  Scenario: The USDF Kafka stopped and started again loses nothing
    When MTM1M3 publishes "forceActuatorData" at 20 Hz for 10 s on domain 0 in the background
    And 2 s pass
    And the kafka at "usdf" is stopped
    And 3 s pass
    And the kafka at "usdf" is started
    Then every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 120 s
