@stand:two-way
Feature: A producer run in process, restarted, loses what was written while it was down
  The same procedure as for the salkafka binary, with the producer in the
  stand's process: stopped, it stops reading its DDS domain; started again,
  it reads on, and the samples written in between are missing.

  Scenario: The summit's in-process producer is stopped and started again
    When ATDome publishes "position" at 20 Hz for 3 s on domain 0 in the background
    And 0.8 s pass
    And the producer "summit-salkafka" is stopped
    And 1 s pass
    And the producer "summit-salkafka" is restarted
    Then exactly the samples of ATDome "position" written while the producer "summit-salkafka" was down are missing from database "efd" at "summit" within 20 s
    And exactly the samples of ATDome "position" written while the producer "summit-salkafka" was down are missing from database "efd" at "usdf" within 20 s
