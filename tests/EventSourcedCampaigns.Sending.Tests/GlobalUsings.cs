global using EventSourcedCampaigns.Decisions;
global using EventSourcedCampaigns.Marten;
global using EventSourcedCampaigns.Ports;
global using EventSourcedCampaigns.Testing;
global using EventSourcedCampaigns.Wolverine;
global using EventSourcedCampaigns.Sending.Tests.Infrastructure;
global using Xunit;
global using EventSourcedCampaigns.IntegrationTests.Infrastructure;
