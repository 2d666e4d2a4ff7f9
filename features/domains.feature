Feature: DDS domain isolation across processes
  The summit moves a CSC under test to a non-production DDS domain so that
  the production producer never forwards it. Here mocksal runs as its own
  process, as on a real test stand, next to the salkafka binary listening
  on domain 0: what mocksal writes on domain 12 must never reach the EFD,
  and what it writes on domain 0 must arrive exactly once.

  Background:
    Given the stand is up

  Scenario: A CSC on domain 12 never reaches the production producer
    When a mocksal process publishes ATDome "position" at 10 Hz for 2 s on domain 12
    Then ATDome "position" is reported as "not delivered" in database "efd" at "usdf" after 3 s

  Scenario: The same CSC on domain 0 is forwarded
    When a mocksal process publishes ATDome "position" at 10 Hz for 2 s on domain 0
    Then every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 20 s
